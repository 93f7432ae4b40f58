/** Each execution's log line says how many host calls the guest made and how long it waited on them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachSandboxPath, startSandboxHarness } from './support.js';

forEachSandboxPath(() => {
  test('execute done / failed: host_calls counts the guest’s import calls, host_call_ms their wait', async () => {
    const h = await startSandboxHarness({ concurrency: 1 });
    try {
      const three = Array.from({ length: 3 }, () => ({ fn: 'context.get-context' }));
      assert.equal((await h.call('POST', '/probe', { body: { calls: three } })).error, null);
      assert.equal((await h.call('POST', '/probe', { body: { calls: [] } })).error, null);
      const done = h.logs.filter((l) => l.msg === 'execute done');
      assert.deepEqual(done.map((l) => l.host_calls), [3, 0]);
      assert.ok((done[0].host_call_ms as number) > 0);
      assert.equal(done[1].host_call_ms, 0);

      await h.call('POST', '/trap', { body: {} });
      const failed = h.logs.find((l) => l.msg === 'execute failed')!;
      assert.equal(failed.host_calls, 0);
    } finally {
      await h.runner.close();
    }
  });
});
