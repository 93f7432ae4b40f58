/** Admin operations: run-now (differences.md#run-now-runs, production's limit and message), runs, next occurrences, HTTP routes. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { adminScheduleRoutes } from '../../../src/server/execution/admin-routes.js';
import { RUN_NOW_RATE_LIMIT_MESSAGE } from '../../../src/server/execution/admin.js';
import { createHttpServer, listen } from '../../../src/shared/http-server.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { startHarness, type Harness } from './support.js';

describe('admin', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ start: '2026-01-05T10:00:30Z' });
  });
  after(async () => h?.stop());

  test('run-now: a disabled schedule runs once and is recorded as run-now', async () => {
    const id = await h.create({ cron: '0 9 * * *', enabled: false });
    const r = await h.exec.admin.runNow(id);
    assert.equal(r.scheduleId, id);
    const [run] = await h.until(async () => {
      const rows = await h.runs(id);
      return rows.length === 1 && rows[0].status === 'success' ? rows : null;
    });
    assert.equal(run.trigger, 'run-now');
    assert.equal(run.occurrence_at.toISOString(), r.requestedAt);
    const call = h.runner.calls.find((c) => c.body.http.headers?.['x-alga-schedule-id'] === id)!;
    assert.equal(call.body.http.headers?.['x-alga-trigger'], 'run-now');
    assert.equal(call.headers['x-idempotency-key'], `runnow:${id}:${r.jobId}`);
    const job = (await h.db.pool.query(`SELECT status, metadata FROM jobs WHERE job_id = $1`, [r.jobId])).rows[0];
    assert.equal(job.status, 'completed');
    assert.equal(job.metadata.kind, 'extension_schedule_run_now');
    const s = (await h.db.pool.query(`SELECT enabled, last_run_status FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
    assert.deepEqual(s, { enabled: false, last_run_status: 'success' });
  });

  test('run-now: the 6th in a minute for a tenant fails with production\'s message; a minute later it is allowed', async () => {
    const tenant = await h.install();
    const id = await h.create({ cron: '0 9 * * *' }, tenant);
    h.clock.set('2026-01-05T11:00:00Z');
    for (let i = 0; i < 5; i++) await h.exec.admin.runNow(id);
    await assert.rejects(h.exec.admin.runNow(id), (e: Error & { code?: string; status?: number }) => {
      assert.equal(e.message, RUN_NOW_RATE_LIMIT_MESSAGE);
      assert.equal(e.message, 'Run-now rate limit exceeded (try again later)');
      assert.equal(e.code, 'rate_limited');
      assert.equal(e.status, 429);
      return true;
    });
    // Another tenant is not limited by this one.
    const mine = await h.create({ cron: '0 8 * * *' });
    await h.exec.admin.runNow(mine);
    h.clock.set('2026-01-05T11:01:01Z');
    await h.exec.admin.runNow(id);
  });

  test('run-now: an inactive install is refused; unknown and malformed ids have their codes', async () => {
    const other = await h.install();
    const id = await h.create({ cron: '0 9 * * *' }, other);
    await h.db.pool.query(`UPDATE tenant_extension_install SET status = 'disabled' WHERE id = $1`, [other.installId]);
    await assert.rejects(h.exec.admin.runNow(id), { code: 'install_inactive', status: 409 });
    await assert.rejects(h.exec.admin.runNow('00000000-0000-4000-8000-000000000000'), { code: 'schedule_not_found', status: 404 });
    await assert.rejects(h.exec.admin.runNow('nope'), { code: 'invalid_schedule_id', status: 400 });
  });

  test('next occurrences: in the schedule\'s zone, across a DST change', async () => {
    h.clock.set('2026-03-06T12:00:00Z');
    const id = await h.create({ cron: '30 2 * * *', timezone: 'America/New_York', name: 'ny' });
    const r = await h.exec.admin.nextOccurrences(id, { count: 3 });
    assert.deepEqual(r.occurrences, ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
    assert.equal(r.timezone, 'America/New_York');
    await assert.rejects(h.exec.admin.nextOccurrences(id, { count: 0 }), { code: 'invalid_argument' });
  });

  describe('HTTP routes', () => {
    let base: string;
    let closeServer: () => void;
    before(async () => {
      const server = createHttpServer(adminScheduleRoutes({ admin: h.exec.admin, token: 's3cret-admin' }), silentLogger);
      await listen(server, 0, '127.0.0.1');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/admin/extensions/schedules`;
      closeServer = () => server.close();
    });
    after(() => closeServer?.());

    test('without the token: 401 JSON', async () => {
      const res = await request(`${base}/00000000-0000-4000-8000-000000000000/runs`);
      assert.equal(res.statusCode, 401);
      assert.equal(((await res.body.json()) as { error: string }).error, 'unauthorized');
    });

    test('runs, next and run-now with the token; errors carry codes', async () => {
      h.clock.set('2026-01-06T10:00:00Z');
      const id = await h.create({ cron: '*/10 * * * *', name: 'http' });
      const auth = { authorization: 'Bearer s3cret-admin' };
      const rn = await request(`${base}/${id}/run-now`, { method: 'POST', headers: auth });
      assert.equal(rn.statusCode, 202);
      await h.until(async () => (await h.runs(id)).some((r) => r.status === 'success'));
      const runs = await request(`${base}/${id}/runs?limit=5`, { headers: auth });
      const body = (await runs.body.json()) as { runs: { trigger: string; status: string }[] };
      assert.deepEqual(body.runs.map((r) => [r.trigger, r.status]), [['run-now', 'success']]);
      const next = await request(`${base}/${id}/next?count=2`, { headers: auth });
      assert.deepEqual(((await next.body.json()) as { occurrences: string[] }).occurrences, ['2026-01-06T10:10:00.000Z', '2026-01-06T10:20:00.000Z']);
      const bad = await request(`${base}/not-a-uuid/runs`, { headers: { 'x-alga-admin-token': 's3cret-admin' } });
      assert.equal(bad.statusCode, 400);
      assert.equal(((await bad.body.json()) as { error: string }).error, 'invalid_schedule_id');
      const badEscape = await request(`${base}/%E0%A4%A/runs`, { headers: auth });
      assert.equal(badEscape.statusCode, 400);
      assert.equal(((await badEscape.body.json()) as { error: string }).error, 'invalid_schedule_id');
      const missing = await request(`${base}/00000000-0000-4000-8000-000000000000/next`, { headers: auth });
      assert.equal(missing.statusCode, 404);
      assert.equal(((await missing.body.json()) as { error: string }).error, 'schedule_not_found');
    });
  });
});
