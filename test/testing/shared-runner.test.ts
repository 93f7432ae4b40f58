/** The test kit's one runner asks each execution's sandbox worker spec of the runtime owning the install. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { registerRoute, workerIoOf, type RuntimeRoute } from '../../src/testing/shared-runner.js';

const route = (workerIo: RuntimeRoute['workerIo']): RuntimeRoute => ({
  backends: {} as RuntimeRoute['backends'],
  workerIo,
  clockOffsetMs: () => 0,
  onGuestLog: () => {},
});

test('workerIoOf: each install gets its own runtime\'s spec; an unknown, closed or absent install gets none (the bridge)', () => {
  const a = { installId: randomUUID(), registryId: randomUUID() };
  const b = { installId: randomUUID(), registryId: randomUUID() };
  const specA = { module: 'file:///a.js', options: { databaseUrl: 'postgres://a' } };
  const specB = { module: 'file:///a.js', options: { databaseUrl: 'postgres://b' } };
  const unA = registerRoute(a, route(specA));
  const unB = registerRoute(b, route(specB));
  const none = { installId: randomUUID(), registryId: randomUUID() };
  const unNone = registerRoute(none, route(undefined));
  try {
    assert.equal(workerIoOf({ installId: a.installId }), specA);
    assert.equal(workerIoOf({ installId: b.installId }), specB);
    assert.equal(workerIoOf({ installId: none.installId }), undefined);
    assert.equal(workerIoOf({ installId: randomUUID() }), undefined);
    assert.equal(workerIoOf({}), undefined);
    unA();
    assert.equal(workerIoOf({ installId: a.installId }), undefined);
  } finally {
    unA();
    unB();
    unNone();
  }
});
