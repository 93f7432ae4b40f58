/**
 * A guest cannot hold a sandbox past its caller: over real HTTP, two looping guests whose clients
 * close are stopped and their sandboxes freed (asserted on the pool's state, not on time); a
 * timeout_ms beyond what a timer holds is clamped, never an instant failure. /readyz: 503 only while
 * every sandbox is busy and one is past its deadline (the pool's clock is moved, its timers are not).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { runnerRoutes } from '../../../src/host/http/runner-service.js';
import { createHttpServer, listen } from '../../../src/shared/http-server.js';
import { createLogger } from '../../../src/shared/logger.js';
import { projectRoot } from '../../support/components.js';
import { LOAD_ALLOWANCE_MS } from '../../../src/shared/deadline.js';
import { startProbeRunner, type ProbeRunner } from './probe-runner.js';

let probe: ProbeRunner;
let server: Server;
let url: string;
const lines: string[] = [];
/** How far the pool's deadline clock is ahead of performance.now(). */
let ahead = 0;

before(async () => {
  probe = await startProbeRunner({
    concurrency: 2,
    logger: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }),
    deadlineClock: () => performance.now() + ahead,
  });
  const cacheDir = join(projectRoot(), '.alga', 'cache');
  await probe.runner.warm(probe.contentHash, 't1', 'e1');
  server = createHttpServer(runnerRoutes({ runner: probe.runner, cacheDir }), createLogger({ level: 'error' }));
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
});
after(async () => {
  server?.closeAllConnections();
  server?.close();
  await probe?.runner.close();
});

function body(path: string, timeout_ms?: number) {
  return JSON.stringify({
    context: { tenant_id: 't1', extension_id: 'e1', install_id: 'i1', content_hash: probe.contentHash },
    http: { method: path === '/counter' ? 'GET' : 'POST', path },
    ...(timeout_ms !== undefined ? { limits: { timeout_ms } } : {}),
  });
}

function execute(path: string, timeout_ms?: number, signal?: AbortSignal) {
  return request(`${url}/v1/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-alga-tenant': 't1', 'x-alga-extension': 'e1' },
    body: body(path, timeout_ms),
    signal,
  });
}

/** Waits (by polling the pool, bounded by the test's timeout) until `ok` holds. */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}

test('two looping guests whose clients close are stopped; the sandboxes are free and a good request runs', { timeout: 120_000 }, async () => {
  const clients = [new AbortController(), new AbortController()];
  const pending = clients.map((c) => execute('/loop', 2_147_483_647, c.signal).catch((e: Error) => e));
  await until(() => probe.runner.stats().busy === 2);
  for (const c of clients) c.abort();
  for (const p of pending) assert.ok((await p) instanceof Error, 'the client gave up');
  await until(() => probe.runner.stats().busy === 0);
  assert.equal(probe.runner.stats().queued, 0);
  const res = await execute('/counter');
  const env = (await res.body.json()) as { status: number; error: string | null };
  assert.equal(env.status, 200, env.error ?? undefined);
  assert.ok(lines.some((l) => /caller went away/.test(l)));
});

async function readyz(): Promise<{ status: number; json: { ready: boolean; reason?: string } }> {
  const res = await request(`${url}/readyz`);
  return { status: res.statusCode, json: (await res.body.json()) as { ready: boolean; reason?: string } };
}

test('a waiting execution whose client closes leaves the queue without running', { timeout: 120_000 }, async () => {
  const loops = [new AbortController(), new AbortController()];
  const busy = loops.map((c) => execute('/loop', 600_000, c.signal).catch((e: Error) => e));
  await until(() => probe.runner.stats().busy === 2);
  const waiting = new AbortController();
  const queued = execute('/counter', undefined, waiting.signal).catch((e: Error) => e);
  await until(() => probe.runner.stats().queued === 1);
  // Busy within their deadlines is not unready: the waiting one gets its turn.
  assert.deepEqual(await readyz(), { status: 200, json: { ready: true } });
  waiting.abort();
  await queued;
  await until(() => probe.runner.stats().queued === 0);
  assert.equal(probe.runner.stats().busy, 2, 'the running ones are untouched');
  for (const c of loops) c.abort();
  await Promise.all(busy);
  await until(() => probe.runner.stats().busy === 0);
});

test('/readyz: 503 with the reason while every sandbox is busy and one is past its execution deadline', { timeout: 120_000 }, async () => {
  const first = new AbortController();
  const firstRun = execute('/loop', 600_000, first.signal).catch((e: Error) => e);
  await until(() => probe.runner.stats().busy === 1);
  ahead += 600_001 + LOAD_ALLOWANCE_MS; // past the first loop's latest end on the pool's clock (its deadline, even were it still held for our load); its timer has not fired
  assert.equal(probe.runner.stats().overdue, 1);
  assert.deepEqual(await readyz(), { status: 200, json: { ready: true } }, 'a sandbox is still free');
  const second = new AbortController();
  const secondRun = execute('/loop', 600_000, second.signal).catch((e: Error) => e);
  await until(() => probe.runner.stats().busy === 2);
  assert.deepEqual(await readyz(), { status: 503, json: { ready: false, reason: 'every sandbox is busy (2) and 1 is past its execution deadline' } });
  first.abort();
  second.abort();
  await Promise.all([firstRun, secondRun]);
  await until(() => probe.runner.stats().busy === 0);
  assert.deepEqual(await readyz(), { status: 200, json: { ready: true } });
});

test('timeout_ms beyond what a timer holds is clamped to the maximum (logged), not an instant timeout', { timeout: 120_000 }, async () => {
  const res = await execute('/counter', 2_147_483_648);
  const env = (await res.body.json()) as { status: number; error: string | null };
  assert.equal(env.status, 200, env.error ?? undefined);
  const clamped = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'timeout_ms clamped to the configured maximum' && l.requested_timeout_ms === 2_147_483_648);
  assert.ok(clamped, 'a log line says it clamped');
  assert.equal(clamped.requested_timeout_ms, 2_147_483_648);
  assert.equal(clamped.timeout_ms, 300_000);
});
