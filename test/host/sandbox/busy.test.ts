/** Concurrency bound and queue bound: past the queue, callers get `runner_busy` (503) at once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachSandboxPath, json, startSandboxHarness } from './support.js';

forEachSandboxPath(() => {
  test('busy: with one sandbox and a queue of one, a third concurrent execution is refused', async () => {
    const h = await startSandboxHarness({ concurrency: 1, maxQueue: 1 });
    try {
      await h.runner.warm(h.contentHash, 'tenant-1', 'probe');
      const rs = await Promise.all([
        h.call('POST', '/loop', { body: {}, limits: { timeout_ms: 1000 } }),
        h.call('GET', '/counter'),
        h.call('GET', '/counter'),
      ]);
      const busy = rs.filter((r) => r.status === 503);
      assert.equal(busy.length, 1, JSON.stringify(rs.map((r) => r.error)));
      assert.match(busy[0]!.error!, /^runner_busy: all 1 sandboxes are busy and 1 executions are waiting$/);
      assert.equal(rs.filter((r) => r.error?.startsWith('execute_failed: timeout')).length, 1);
      // The runner serves again once the queue drains.
      assert.deepEqual(json(await h.call('GET', '/counter')), { counter: 1 });
    } finally {
      await h.runner.close();
    }
  });

  test('busy: executions up to the bound all run', async () => {
    const h = await startSandboxHarness({ concurrency: 2, maxQueue: 6 });
    try {
      const rs = await Promise.all(Array.from({ length: 8 }, () => h.call('GET', '/counter')));
      assert.deepEqual(rs.map((r) => r.status), Array(8).fill(200));
    } finally {
      await h.runner.close();
    }
  });
});
