/** Guest stdout/stderr go to the runner's logger as guest lines of their execution. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachSandboxPath, startSandboxHarness } from './support.js';

forEachSandboxPath(() => {
  test('stderr: what a trapping guest prints is logged as ext-stderr lines of its request', async () => {
    const h = await startSandboxHarness({ concurrency: 1 });
    try {
      const r = await h.call('POST', '/trap', { body: {} });
      assert.match(r.error!, /boom/);
      const lines = h.logs.filter((l) => l.source === 'ext-stderr');
      assert.ok(lines.some((l) => l.msg === 'boom'), JSON.stringify(lines));
      const start = h.logs.find((l) => l.msg === 'execute start')!;
      assert.ok(lines.every((l) => l.request_id === start.request_id && l.tenant === 'tenant-1'));
    } finally {
      await h.runner.close();
    }
  });
});
