/**
 * Isolation: no guest state survives from one execution to the next — not between requests,
 * tenants or installs, in either isolation mode. The probe's GET /counter increments a
 * module-level counter, so any reuse of state would answer more than 1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { forEachSandboxPath, json, startSandboxHarness, type SandboxHarness } from './support.js';

forEachSandboxPath(() => {
  for (const isolation of ['snapshot', 'fresh-instance'] as const) {
    describe(`isolation (${isolation})`, () => {
      let h: SandboxHarness;
      before(async () => {
        h = await startSandboxHarness({ isolation, concurrency: 2 });
        await h.runner.warm(h.contentHash, 'tenant-a', 'probe');
      });
      after(async () => h?.runner.close());

      test('counter: answers 1 on every execution, across tenants and installs', async () => {
        const installs = ['11111111-1111-4111-8111-111111111111', '33333333-3333-4333-8333-333333333333'];
        const counters: number[] = [];
        for (let round = 0; round < 3; round++) {
          for (const tenant of ['tenant-a', 'tenant-b']) {
            for (const installId of installs) {
              const r = await h.call('GET', '/counter', { tenant, installId });
              assert.equal(r.status, 200, r.error ?? undefined);
              counters.push(json(r).counter);
            }
          }
        }
        assert.deepEqual(counters, Array(counters.length).fill(1));
      });

      test('counter: answers 1 under concurrent executions', async () => {
        const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => h.call('GET', '/counter', { tenant: `tenant-${i % 3}` })));
        assert.deepEqual(rs.map((r) => json(r).counter), Array(12).fill(1));
      });

      test('counter: answers 1 after a trap, a memory bomb and a large allocation', async () => {
        await h.call('POST', '/trap', { body: {} });
        assert.equal(json(await h.call('GET', '/counter')).counter, 1);
        await h.call('POST', '/alloc', { body: {}, limits: { memory_mb: 64 } });
        assert.equal(json(await h.call('GET', '/counter', { limits: { memory_mb: 64 } })).counter, 1);
        const grown = await h.call('POST', '/alloc', { body: { mb: 20 } }); // grows memory: the instance is replaced
        assert.equal(json(grown).allocatedMb, 20);
        assert.equal(json(await h.call('GET', '/counter')).counter, 1);
      });

      test('clocks and random: each execution draws its own random numbers', async () => {
        const a = json(await h.call('GET', '/time'));
        const b = json(await h.call('GET', '/time'));
        assert.notEqual(a.random, b.random);
        assert.ok(b.now >= a.now);
      });
    });
  }
});
