/** The idempotency cache's bounds: count, bytes, and expiry that evicts on its own (a manual clock). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdempotencyCache } from '../../src/host/idempotency.js';

const scope = (path: string) => ({ tenant: 't', install: 'i', method: 'POST', path });
const answer = (bytes: number) => ({ status: 200, headers: {}, body_b64: 'x'.repeat(bytes), error: null });

function remember(c: IdempotencyCache, path: string, bytes = 10): void {
  const l = c.lookup(scope(path), 'k', 'f');
  assert.equal(l.kind, 'run');
  if (l.kind === 'run') l.finish(answer(bytes), true);
}

test('bounded by count: the oldest goes first', () => {
  const c = new IdempotencyCache({ maxEntries: 3, sweepMs: 0 });
  for (const p of ['/a', '/b', '/c', '/d']) remember(c, p);
  assert.equal(c.size, 3);
  assert.equal(c.lookup(scope('/a'), 'k', 'f').kind, 'run', '/a was evicted');
  assert.equal(c.lookup(scope('/d'), 'k', 'f').kind, 'replay');
});

test('bounded by bytes: large answers push old ones out; one larger than the bound is not kept', () => {
  const c = new IdempotencyCache({ maxBytes: 10_000, sweepMs: 0 });
  for (let i = 0; i < 10; i++) remember(c, `/p${i}`, 3_000);
  assert.ok(c.bytes <= 10_000, `${c.bytes} bytes`);
  assert.equal(c.size, 3);
  remember(c, '/huge', 20_000);
  assert.equal(c.lookup(scope('/huge'), 'k', 'f').kind, 'run');
  assert.ok(c.bytes <= 10_000);
});

test('expired entries are evicted without being asked for', () => {
  let now = 0;
  const c = new IdempotencyCache({ ttlMs: 1_000, now: () => now, sweepMs: 0 });
  for (const p of ['/a', '/b', '/c']) remember(c, p);
  now = 500;
  remember(c, '/d');
  now = 1_200;
  assert.equal(c.sweep(), 3, 'the three older than the ttl');
  assert.equal(c.size, 1);
  assert.equal(c.bytes > 0, true);
  now = 5_000;
  c.lookup(scope('/other'), 'k', 'f'); // any use sweeps too
  assert.equal(c.size, 0);
  assert.equal(c.bytes, 0);
});

test('a failed run is not remembered and frees its key', () => {
  const c = new IdempotencyCache({ sweepMs: 0 });
  const l = c.lookup(scope('/a'), 'k', 'f');
  assert.equal(c.lookup(scope('/a'), 'k', 'f').kind, 'refuse');
  if (l.kind === 'run') l.finish({ status: 503, headers: {}, body_b64: null, error: 'runner_busy: x' }, false);
  assert.equal(c.inFlight, 0);
  assert.equal(c.lookup(scope('/a'), 'k', 'f').kind, 'run');
});
