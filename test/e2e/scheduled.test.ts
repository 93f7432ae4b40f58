/**
 * The sample's schedules executed end to end: the sample built from source creates its schedules
 * through the scheduler interface (POST /api/setup); the dispatcher, driven by a manual clock, fires
 * the heartbeat at its next five-minute occurrence; the invocation goes through the platform's
 * ExecuteClient (the runner in this process, or the runner process over HTTP) into the component's
 * POST /api/heartbeat, and the run is recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { createManualClock, type ManualClock } from '../../src/server/execution/index.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const SAMPLE = 'com.alga.sample.scheduler-demo';
const TENANT = 'tenant-sched';
const DAY = 86_400_000;

for (const shape of ['in-process', 'split'] as const)
  describe(`scheduled execution (${shape})`, () => {
    let tp: TestPlatform;
    let clock: ManualClock;
    let heartbeatId: string;
    let statusId: string;

    before(async () => {
      // A day ahead of the wall clock, so that what the guest reads tells which clock it sees.
      clock = createManualClock(Date.now() + DAY);
      tp = await startTestPlatform({ shape, execution: { enabled: true, clock, dispatch: false, pollMs: 50 } });
      await tp.install('scheduler-demo', { tenantId: TENANT });
      const setup = await tp.call('POST', SAMPLE, '/api/setup', { tenant: TENANT, body: {} });
      assert.equal(setup.status, 200, setup.text);
      const rows = (await tp.db.pool.query(`SELECT id, name FROM tenant_extension_schedule WHERE tenant_id = $1`, [TENANT])).rows;
      heartbeatId = rows.find((r) => r.name === 'Heartbeat Check')!.id;
      statusId = rows.find((r) => r.name === 'Daily Status Check')!.id;
    });
    after(async () => tp?.stop());

    const runsOf = async (id: string) =>
      (await tp.db.pool.query(`SELECT * FROM extension_schedule_run WHERE schedule_id = $1 ORDER BY started_at`, [id])).rows;
    async function until<T>(fn: () => Promise<T>, ms = 60_000): Promise<NonNullable<T>> {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v) return v as NonNullable<T>;
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    test('heartbeat: fires at its next */5 occurrence and invokes POST /api/heartbeat, which answers a real timestamp', async () => {
      const d = (await tp.db.pool.query(`SELECT next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [heartbeatId])).rows[0];
      const due: Date = d.next_run_at;
      assert.equal(due.getUTCMinutes() % 5, 0);
      assert.ok(due.getTime() > clock.now().getTime() && due.getTime() <= clock.now().getTime() + 5 * 60_000);
      clock.set(due.getTime() - 1000);
      await tp.platform.execution!.tick();
      assert.deepEqual(await runsOf(heartbeatId), []);
      clock.set(due.getTime() + 1000);
      const wallBefore = Date.now();
      await tp.platform.execution!.tick();
      const [run] = await until(async () => {
        const r = await runsOf(heartbeatId);
        return r.length && r[0].status !== 'running' ? r : null;
      });
      assert.equal(run.status, 'success', run.error);
      assert.equal(run.trigger, 'schedule');
      assert.equal(run.http_status, 200);
      assert.equal(run.occurrence_at.toISOString(), due.toISOString());
      const body = JSON.parse(run.response_excerpt);
      assert.equal(body.event, 'heartbeat');
      assert.deepEqual(body.payload, { source: 'auto-setup' });
      assert.deepEqual(body.invocation, { scheduled: true, trigger: 'schedule', scheduleId: heartbeatId, scheduledTime: due.toISOString() });
      assert.equal(body.tenant, TENANT);
      const t = Date.parse(body.timestamp);
      // In process, the guest's wasi:clocks read the platform's clock; the runner process reads its
      // own: then the timestamp was taken between the tick and now, however long the run took.
      const expected = shape === 'in-process' ? clock.now().getTime() : Date.now();
      const inRange = shape === 'in-process' ? Math.abs(t - expected) < 60_000 : t >= wallBefore - 1000 && t <= expected + 1000;
      assert.ok(inRange, `timestamp ${body.timestamp} is not the ${shape === 'in-process' ? 'platform clock' : 'wall clock'} (${new Date(expected).toISOString()})`);
      const s = (await tp.db.pool.query(`SELECT last_run_at, last_run_status, last_error FROM tenant_extension_schedule WHERE id = $1`, [heartbeatId])).rows[0];
      assert.equal(s.last_run_status, 'success');
      assert.equal(s.last_error, null);
      assert.ok(s.last_run_at.getTime() >= due.getTime());
    });

    test('run-now over the admin route (loopback, no token configured) runs the GET schedule once', async () => {
      const res = await request(`${tp.url}/api/admin/extensions/schedules/${statusId}/run-now`, { method: 'POST' });
      assert.equal(res.statusCode, 202, await res.body.text());
      const [run] = await until(async () => {
        const r = await runsOf(statusId);
        return r.length && r[0].status !== 'running' ? r : null;
      });
      assert.equal(run.status, 'success', run.error);
      assert.equal(run.trigger, 'run-now');
      const body = JSON.parse(run.response_excerpt);
      assert.equal(body.status, 'healthy');
      assert.equal(body.invocation.trigger, 'run-now');
      const list = await request(`${tp.url}/api/admin/extensions/schedules/${statusId}/runs`);
      const runs = ((await list.body.json()) as { runs: { trigger: string }[] }).runs;
      assert.deepEqual(runs.map((r) => r.trigger), ['run-now']);
    });
  });
