/**
 * `alga-runner schedules list` and `run-now --at` against a running `dev`: the list shows each
 * schedule with its cron in words and next runs in its timezone; a run-now at a chosen instant is
 * recorded with that scheduled time, the guest sees it in x-alga-scheduled-time, and a second
 * run-now of the same instant (an occurrence that already ran) runs again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCli, startDev, type DevProcess } from '../support/dev-process.js';

let db: TestDatabase;
let dev: DevProcess | undefined;
const NAME = 'com.alga.sample.scheduler-demo';

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await dev?.stop();
  await db?.drop();
});

test('schedules list, and run-now --at twice at one instant: two runs with that scheduled time', async () => {
  const env = { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') };
  dev = await startDev([join(projectRoot(), 'components', 'scheduler-demo')], env);
  const base = `${dev.url}/api/ext/${NAME}`;
  assert.equal((await fetch(`${base}/api/setup`, { method: 'POST', body: '{}' })).status, 200);
  // dev's dispatcher runs on the wall clock: a */5 mark passing during the test would add a run of
  // its own (and could skip a run-now as an overlap). Its next dispatch moves a year on; the list
  // shows occurrences from the cron, which do not change.
  await db.pool.query(`UPDATE extension_schedule_dispatch SET next_run_at = next_run_at + interval '1 year'`);

  const list = await runCli(['schedules', 'list', '--url', dev.url], env);
  assert.equal(list.code, 0, list.stderr + list.stdout);
  assert.match(list.stdout, /Heartbeat Check {2}[0-9a-f-]{36}\n {2}com\.alga\.sample\.scheduler-demo, tenant local, enabled\n {2}POST \/api\/heartbeat {2}\*\/5 \* \* \* \* {2}Every 5 minutes \(UTC\)\n {2}next \(UTC\): \d{4}-\d\d-\d\d \d\d:\d[05], \d{4}-\d\d-\d\d \d\d:\d[05], \d{4}-\d\d-\d\d \d\d:\d[05]\n {2}last run: never ran/);
  assert.match(list.stdout, /Daily Status Check .*\n.*\n {2}GET \/api\/status {2}0 9 \* \* \* {2}At 09:00 \(America\/New_York\)\n {2}next \(America\/New_York\): \d{4}-\d\d-\d\d 09:00, \d{4}-\d\d-\d\d 09:00, \d{4}-\d\d-\d\d 09:00/);
  const json = JSON.parse((await runCli(['schedules', 'list', '--url', dev.url, '--json', '--extension', NAME], env)).stdout);
  assert.equal(json.schedules.length, 2);
  const none = JSON.parse((await runCli(['schedules', 'list', '--url', dev.url, '--json', '--tenant', 'nobody'], env)).stdout);
  assert.deepEqual(none.schedules, []);
  const hb = json.schedules.find((s: { name: string }) => s.name === 'Heartbeat Check');

  const at = '2026-01-01T00:00:00.000Z';
  let runs: { occurrenceAt: string; trigger: string; status: string; requestId: string; responseExcerpt: string }[] = [];
  for (let i = 1; i <= 2; i++) {
    const r = await runCli(['schedules', 'run-now', hb.id, '--at', '2026-01-01T00:00:00Z', '--url', dev.url], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(JSON.parse(r.stdout).requestedAt, at);
    // Each run-now waits for the one before to end: a run-now while a run of the schedule is still
    // running is skipped as an overlap, which is not what this test is about.
    for (let n = 0; n < 150 && runs.filter((x) => x.status !== 'running').length < i; n++) {
      await new Promise((res) => setTimeout(res, 200));
      runs = JSON.parse((await runCli(['schedules', 'runs', hb.id, '--url', dev.url], env)).stdout).runs;
    }
  }
  const done = runs.filter((r) => r.status === 'success');
  assert.equal(done.length, 2, JSON.stringify(runs));
  for (const r of done) {
    assert.equal(r.occurrenceAt, at);
    assert.equal(r.trigger, 'run-now');
    assert.equal(JSON.parse(r.responseExcerpt).invocation.scheduledTime, at, 'the guest saw x-alga-scheduled-time');
  }
  assert.notEqual(done[0]!.requestId, done[1]!.requestId);
  assert.notEqual(JSON.parse(done[0]!.responseExcerpt).timestamp, JSON.parse(done[1]!.responseExcerpt).timestamp, 'both really ran (not answered from the idempotency cache)');
  assert.equal((dev.output().match(/heartbeat at \S+ trigger=run-now/g) ?? []).length, 2);

  const after = await runCli(['schedules', 'list', '--url', dev.url], env);
  assert.match(after.stdout, /Heartbeat Check[\s\S]*?last run: success/);

  const bad = await runCli(['schedules', 'run-now', hb.id, '--at', 'tomorrow', '--url', dev.url], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /invalid_argument[\s\S]*ISO 8601 instant/);
});
