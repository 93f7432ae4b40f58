/**
 * A scheduled invocation and its sandbox stop at the same deadline: a run-now of an endpoint that
 * never returns (the probe's POST /loop) ends with one outcome (production's abort message, the
 * runner's timeout) and one failure line from the runner, not a caller that went away as well.
 * Asserted on the recorded run, the log lines and the pool's state, never on elapsed time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import type { Runner } from '../../src/host/runner.js';
import { createLogger } from '../../src/shared/logger.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const TIMEOUT_MS = 2000;
let tp: TestPlatform;
const lines: { msg: string; [k: string]: unknown }[] = [];

before(async () => {
  tp = await startTestPlatform({
    config: loadConfig({ ...process.env, EXT_GATEWAY_TIMEOUT_MS: String(TIMEOUT_MS) }),
    logger: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) }),
    execution: { enabled: true, dispatch: false, pollMs: 50, maxAttempts: 1 },
  });
  await tp.install('scheduler-probe');
});
after(async () => tp?.stop());

test('run-now of an endpoint that never returns: one run, production\'s abort message, one runner failure (timeout), the sandbox free', { timeout: 180_000 }, async () => {
  const [created] = await tp.probe([{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'POST /loop', cron: '0 3 * * *' }] }]);
  const scheduleId = created.ok.scheduleId as string;
  assert.ok(scheduleId, JSON.stringify(created));
  const from = lines.length;
  await tp.platform.execution!.admin.runNow(scheduleId);
  let runs: any[] = [];
  for (;;) {
    runs = (await tp.db.pool.query(`SELECT status, error FROM extension_schedule_run WHERE schedule_id = $1`, [scheduleId])).rows;
    if (runs.length === 1 && runs[0].status !== 'running') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(runs, [{ status: 'error', error: `This operation was aborted (timeout after ${TIMEOUT_MS} ms)` }]);
  const mine = lines.slice(from);
  const failed = mine.filter((l) => l.msg === 'execute failed');
  assert.equal(failed.length, 1, JSON.stringify(failed));
  assert.equal(failed[0]!.reason, 'timeout', 'the sandbox stopped at the deadline, not because its caller left first');
  assert.equal(failed[0]!.error, `timeout: execution exceeded ${TIMEOUT_MS} ms and was stopped`);
  assert.deepEqual(mine.filter((l) => l.msg === 'caller went away: stopping the guest'), []);
  assert.equal(mine.filter((l) => l.msg === 'scheduled invocation failed').length, 1);
  assert.equal((tp.platform.runner as Runner).stats().busy, 0);
});
