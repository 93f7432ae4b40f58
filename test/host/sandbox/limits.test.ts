/**
 * Limits and crashes: each failure ends only its own execution with production's
 * `execute_failed: …` envelope and a clear reason, and the runner keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { forEachSandboxPath, json, startSandboxHarness, type SandboxHarness } from './support.js';

forEachSandboxPath(() => {
  // For calls whose test is not about time (the harness's default is 1 500 ms): a 64 MB variant is
  // instantiated inside the execution, a call queued behind a stopped guest runs on a new worker that
  // loads the component inside its deadline, and a 20 MiB answer or a recursion to a stack overflow
  // takes its time; on a loaded machine any of them can outlast a short deadline. Only a hang reaches this one.
  const NOT_TIMED_MS = 120_000;

  describe('sandbox limits', () => {
    let h: SandboxHarness;
    before(async () => {
      h = await startSandboxHarness({ concurrency: 2, defaultTimeoutMs: 1500 });
      await h.runner.warm(h.contentHash, 'tenant-1', 'probe');
    });
    after(async () => h?.runner.close());
    // A deadline counts from a started worker, and a worker that replaced a stopped one loads the
    // component first: wait until every worker has it, so deadlines cover only the guest's work
    // (on a loaded machine the load alone can outlast them).
    const ready = () => h.runner.warm(h.contentHash, 'tenant-1', 'probe');
    beforeEach(ready);

    async function assertHealthy(tenant = 'tenant-1') {
      await ready();
      const r = await h.call('GET', '/counter', { tenant, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 200, r.error ?? undefined);
      assert.deepEqual(json(r), { counter: 1 });
    }

    test('timeout: an infinite loop is stopped at limits.timeout_ms', async () => {
      const r = await h.call('POST', '/loop', { body: {}, limits: { timeout_ms: 300 } });
      assert.equal(r.status, 500);
      assert.equal(r.error, 'execute_failed: timeout: execution exceeded 300 ms and was stopped');
      await assertHealthy();
    });

    test('timeout: without limits.timeout_ms the runner default applies', async () => {
      const r = await h.call('POST', '/loop', { body: {} });
      assert.equal(r.error, 'execute_failed: timeout: execution exceeded 1500 ms and was stopped');
      await assertHealthy();
    });

    test('timeout: limits.timeout_ms = 0 is the shortest deadline (production: one 10 ms tick), never "no deadline"', async () => {
      // Only a hang guard: without a deadline the loop never ends; with one it ends at 10 ms.
      const r = await Promise.race([
        h.call('POST', '/loop', { body: {}, limits: { timeout_ms: 0 } }),
        new Promise<undefined>((res) => setTimeout(() => res(undefined), 60_000).unref()),
      ]);
      assert.ok(r, 'a looping guest with timeout_ms 0 was never stopped (it holds a sandbox forever)');
      assert.equal(r.status, 500);
      assert.match(r.error!, /^execute_failed: timeout: /);
      assert.equal(r.error, 'execute_failed: timeout: execution exceeded 10 ms and was stopped');
      await assertHealthy();
    });

    test('memory: a guest allocating without bound fails at limits.memory_mb', async () => {
      const r = await h.call('POST', '/alloc', { body: {}, limits: { memory_mb: 64, timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 500);
      assert.match(r.error!, /^execute_failed: memory limit exceeded: the guest used up its 64 MB of linear memory/);
      await assertHealthy();
    });

    test('memory: the default cap is 256 MB', async () => {
      const r = await h.call('POST', '/alloc', { body: {}, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.match(r.error!, /^execute_failed: memory limit exceeded: the guest used up its 256 MB of linear memory/);
      await assertHealthy();
    });

    test('memory: an allocation under the cap succeeds', async () => {
      const r = await h.call('POST', '/alloc', { body: { mb: 24 }, limits: { memory_mb: 64, timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 200, r.error ?? undefined);
      assert.deepEqual(json(r), { allocatedMb: 24 });
    });

    test('memory: a cap below the component\'s initial memory is refused clearly', async () => {
      const r = await h.call('GET', '/counter', { limits: { memory_mb: 1 } });
      assert.equal(r.status, 400, 'the request\'s mistake: a client error');
      assert.match(r.error!, /^execute_failed: memory limit 1 MB is below the component's initial memory of \d+ MB$/);
    });

    test('trap: an uncaught guest exception fails with the guest\'s message', async () => {
      const r = await h.call('POST', '/trap', { body: {}, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 500);
      assert.match(r.error!, /^execute_failed: guest trapped: boom \(/);
      await assertHealthy();
    });

    test('rejected promise: a handler whose promise rejects fails only its execution, with its message', async () => {
      const r = await h.call('POST', '/reject', { body: {}, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 500);
      assert.match(r.error!, /^execute_failed: .*rejected on purpose/);
      await assertHealthy();
    });

    test('recursion: unbounded recursion is a stack overflow', async () => {
      const r = await h.call('POST', '/recurse', { body: {}, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 500);
      assert.match(r.error!, /^execute_failed: stack overflow: /);
      await assertHealthy();
    });

    test('response: a body over the 10 MiB default fails cleanly', async () => {
      const r = await h.call('POST', '/big', { body: { bytes: 20 * 2 ** 20 }, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 500);
      assert.match(r.error!, /^execute_failed: response too large: response of \d+ bytes exceeds the runner's limit of 10485760 bytes$/);
      assert.equal(r.body_b64, null);
      await assertHealthy();
    });

    test('response: a body under the limit passes whole', async () => {
      const r = await h.call('POST', '/big', { body: { bytes: 2 ** 20 }, limits: { timeout_ms: NOT_TIMED_MS } });
      assert.equal(r.status, 200, r.error ?? undefined);
      assert.equal(Buffer.from(r.body_b64!, 'base64').length, 2 ** 20);
    });

    test('concurrency: two tenants failing differently at once each get their own envelope', async () => {
      const [loop, bomb, ok, trap] = await Promise.all([
        h.call('POST', '/loop', { tenant: 'tenant-a', body: {}, limits: { timeout_ms: 400 } }),
        h.call('POST', '/alloc', { tenant: 'tenant-b', body: {}, limits: { memory_mb: 64, timeout_ms: NOT_TIMED_MS } }),
        h.call('GET', '/counter', { tenant: 'tenant-b', limits: { timeout_ms: NOT_TIMED_MS } }),
        h.call('POST', '/trap', { tenant: 'tenant-a', body: {}, limits: { timeout_ms: NOT_TIMED_MS } }),
      ]);
      assert.equal(loop.error, 'execute_failed: timeout: execution exceeded 400 ms and was stopped');
      assert.match(bomb.error!, /^execute_failed: memory limit exceeded/);
      assert.deepEqual(json(ok), { counter: 1 });
      assert.match(trap.error!, /^execute_failed: guest trapped: boom/);
      await assertHealthy('tenant-a');
      await assertHealthy('tenant-b');
    });
  });

  describe('sandbox limits: response cap option', () => {
    test('maxResponseBytes: a smaller configured cap applies', async () => {
      const h = await startSandboxHarness({ concurrency: 1, maxResponseBytes: 1000 });
      try {
        const big = await h.call('POST', '/big', { body: { bytes: 5000 } });
        assert.match(big.error!, /^execute_failed: response too large: response of \d+ bytes exceeds the runner's limit of 1000 bytes$/);
        const small = await h.call('POST', '/big', { body: { bytes: 500 } });
        assert.equal(small.status, 200, small.error ?? undefined);
      } finally {
        await h.runner.close();
      }
    });
  });
});
