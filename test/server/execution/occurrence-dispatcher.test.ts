/**
 * Firing through the dispatcher with a manual clock and a fake ExecuteClient (the component adds
 * nothing here): on time, exactly at the due instant, across DST changes, once after an outage,
 * never for disabled schedules or installs, with production's request shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { INVOCATION_QUEUE } from '../../../src/server/execution/queue.js';
import { ok, startHarness, type Harness } from './support.js';

describe('dispatcher', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ start: '2026-01-05T10:00:30Z' });
  });
  after(async () => h?.stop());

  test('fire: nothing before the due instant; one run at it, with production\'s request and our headers', async () => {
    const id = await h.create({ endpoint: 'POST /sync', cron: '*/5 * * * *', timezone: 'UTC', payload: { a: 1 } });
    h.clock.set('2026-01-05T10:04:59.999Z');
    assert.equal((await h.exec.tick()).enqueued, 0);
    h.clock.set('2026-01-05T10:05:00.000Z');
    assert.equal((await h.exec.tick()).enqueued, 1);
    const [run] = await h.until(async () => {
      const r = await h.runs(id);
      return r.length === 1 && r[0].status === 'success' ? r : null;
    });
    assert.equal(run.occurrence_at.toISOString(), '2026-01-05T10:05:00.000Z');
    assert.equal(run.trigger, 'schedule');
    assert.equal(run.attempt, 1);
    assert.equal(run.http_status, 200);
    const call = h.runner.calls.at(-1)!;
    assert.equal(call.headers['x-alga-tenant'], h.ctx.tenantId);
    assert.equal(call.headers['x-alga-extension'], h.ctx.registryId);
    assert.equal(call.headers['x-idempotency-key'], `sched:${id}:2026-01-05T10:05:00.000Z`);
    assert.equal(call.headers['x-request-id'], run.request_id);
    assert.deepEqual(call.body.http.headers, {
      'x-alga-trigger': 'schedule',
      'x-alga-schedule-id': id,
      'x-alga-scheduled-time': '2026-01-05T10:05:00.000Z',
      'x-alga-tenant': h.ctx.tenantId,
      'x-alga-extension': h.ctx.registryId,
    });
    assert.equal(call.body.http.method, 'POST');
    assert.equal(call.body.http.path, '/sync');
    assert.deepEqual(call.body.http.query, {});
    assert.deepEqual(JSON.parse(Buffer.from(call.body.http.body_b64!, 'base64').toString()), { a: 1 });
    const context = call.body.context as Record<string, unknown>;
    assert.equal(context.trigger, 'schedule');
    assert.equal(context.schedule_id, id);
    assert.equal(context.install_id, h.ctx.installId);
    assert.equal(call.body.limits?.timeout_ms, 30_000);
    const s = (await h.db.pool.query(`SELECT last_run_at, last_run_status, last_error FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
    assert.deepEqual([s.last_run_status, s.last_error], ['success', null]);
    // The same instant again: nothing more.
    assert.equal((await h.exec.tick()).enqueued, 0);
    const d = (await h.db.pool.query(`SELECT next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [id])).rows[0];
    assert.equal(d.next_run_at.toISOString(), '2026-01-05T10:10:00.000Z');
    await h.service.delete(h.ctx, id);
  });

  test('fire: GET endpoints get no body even with a payload', async () => {
    const id = await h.create({ endpoint: 'GET /status', cron: '7 * * * *', timezone: 'UTC', payload: { ignored: true } });
    h.clock.set('2026-01-05T11:07:00Z');
    await h.exec.tick();
    await h.until(async () => (await h.runs(id)).find((r) => r.status === 'success'));
    const call = h.runner.calls.find((c) => c.body.http.headers?.['x-alga-schedule-id'] === id)!;
    assert.equal(call.body.http.method, 'GET');
    assert.equal(call.body.http.body_b64, undefined);
    await h.service.delete(h.ctx, id);
  });

  test('disabled: a disabled schedule, a deleted schedule and a disabled install do not fire', async () => {
    const disabled = await h.create({ cron: '0 * * * *', enabled: false });
    const deleted = await h.create({ cron: '0 * * * *' });
    await h.service.delete(h.ctx, deleted);
    const other = await h.install();
    const offInstall = await h.create({ cron: '0 * * * *' }, other);
    await h.db.pool.query(`UPDATE tenant_extension_install SET is_enabled = false WHERE id = $1`, [other.installId]);
    h.clock.set('2026-01-05T12:00:00Z');
    const t = await h.exec.tick();
    assert.equal(t.enqueued, 0);
    assert.equal(t.skipped, 1);
    // Nothing was queued for them, so nothing can run them later (a state, not a wait).
    const queued = await h.db.pool.query(`SELECT 1 FROM pgboss.job WHERE name = $1 AND data->>'scheduleId' = ANY($2::text[])`, [INVOCATION_QUEUE, [disabled, deleted, offInstall]]);
    assert.equal(queued.rowCount, 0);
    for (const id of [disabled, deleted, offInstall]) assert.deepEqual(await h.runs(id), []);
    // The disabled install's schedule keeps its place in time: the next hour, not a backlog.
    const d = (await h.db.pool.query(`SELECT next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [offInstall])).rows[0];
    assert.equal(d.next_run_at.toISOString(), '2026-01-05T13:00:00.000Z');
    await h.db.pool.query(`UPDATE tenant_extension_install SET is_enabled = true WHERE id = $1`, [other.installId]);
    h.clock.set('2026-01-05T13:00:00Z');
    assert.equal((await h.exec.tick()).enqueued, 1);
    await h.until(async () => (await h.runs(offInstall)).find((r) => r.status === 'success'));
    await h.service.delete(other, offInstall);
    await h.service.delete(h.ctx, disabled);
  });

  test('missed: an hour without a dispatcher runs the schedule once, and a log line counts the dropped occurrences', async () => {
    h.clock.set('2026-01-05T14:00:30Z');
    const id = await h.create({ cron: '*/5 * * * *' });
    h.clock.set('2026-01-05T15:07:00Z');
    const t = await h.exec.tick();
    assert.equal(t.enqueued, 1);
    assert.equal(t.dropped, 12);
    const runs = await h.until(async () => {
      const r = await h.runs(id);
      return r.length === 1 && r[0].status === 'success' ? r : null;
    });
    assert.equal(runs[0].occurrence_at.toISOString(), '2026-01-05T15:05:00.000Z');
    const line = h.logger.lines.find((l) => l.msg.startsWith('missed schedule occurrences dropped') && l.fields.scheduleId === id);
    assert.ok(line, 'no log line for the dropped occurrences');
    assert.equal(line.fields.dropped, 12);
    await h.service.delete(h.ctx, id);
  });
});

describe('dispatcher: DST through the dispatcher (manual clock)', () => {
  test('America/New_York spring: 02:30 fires once at 03:30 EDT; autumn: 01:30 fires once at 01:30 EDT', async () => {
    const h = await startHarness({ start: '2026-03-08T05:00:00Z' });
    try {
      const id = await h.create({ cron: '30 2 * * *', timezone: 'America/New_York' });
      h.clock.set('2026-03-08T07:29:59Z');
      assert.equal((await h.exec.tick()).enqueued, 0);
      h.clock.set('2026-03-08T07:30:00Z'); // 03:30 EDT
      assert.equal((await h.exec.tick()).enqueued, 1);
      h.clock.set('2026-03-08T08:30:00Z');
      assert.equal((await h.exec.tick()).enqueued, 0);
      await h.until(async () => (await h.runs(id)).find((r) => r.status === 'success'));
      await h.service.delete(h.ctx, id);

      const autumn = await h.create({ cron: '30 1 * * *', timezone: 'America/New_York', name: 'autumn' });
      h.clock.set('2026-11-01T04:00:00Z');
      await h.service.update(h.ctx, autumn, { cron: '30 1 * * *', timezone: 'America/New_York', enabled: false });
      await h.service.update(h.ctx, autumn, { enabled: true }); // re-scheduled from the clock's now
      h.clock.set('2026-11-01T05:30:00Z'); // 01:30 EDT
      assert.equal((await h.exec.tick()).enqueued, 1);
      h.clock.set('2026-11-01T06:30:00Z'); // 01:30 EST: the repeated local time does not fire again
      assert.equal((await h.exec.tick()).enqueued, 0);
      const d = (await h.db.pool.query(`SELECT next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [autumn])).rows[0];
      assert.equal(d.next_run_at.toISOString(), '2026-11-02T06:30:00.000Z');
      const runs = await h.until(async () => {
        const r = await h.runs(autumn);
        return r.length === 1 && r[0].status === 'success' ? r : null;
      });
      assert.equal(runs[0].occurrence_at.toISOString(), '2026-11-01T05:30:00.000Z');
    } finally {
      await h.stop();
    }
  });

  test('Europe/London: spring 01:30 fires at 02:30 BST; autumn hourly fires at 01:00 BST and 01:00 GMT', async () => {
    const h = await startHarness({ start: '2026-03-29T00:00:00Z' });
    try {
      const spring = await h.create({ cron: '30 1 * * *', timezone: 'Europe/London' });
      h.clock.set('2026-03-29T01:29:59Z');
      assert.equal((await h.exec.tick()).enqueued, 0);
      h.clock.set('2026-03-29T01:30:00Z'); // 02:30 BST
      assert.equal((await h.exec.tick()).enqueued, 1);
      await h.service.delete(h.ctx, spring);

      h.clock.set('2026-10-24T23:30:00Z');
      const hourly = await h.create({ cron: '0 * * * *', timezone: 'Europe/London' });
      const fired: string[] = [];
      for (const at of ['2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:00:00Z']) {
        h.clock.set(at);
        if ((await h.exec.tick()).enqueued) {
          fired.push(at);
          // Occurrences of one schedule never overlap: let this one finish before the next instant.
          await h.until(async () => (await h.runs(hourly)).filter((r) => r.status === 'success').length === fired.length);
        }
      }
      assert.deepEqual(fired, ['2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z']);
      await h.until(async () => (await h.runs(hourly)).filter((r) => r.status === 'success').length === 3);
    } finally {
      await h.stop();
    }
  });
});

describe('dispatcher: request evaluation', () => {
  test('endpoint gone: schedule disabled with production\'s message, not retried', async () => {
    const h = await startHarness({ start: '2026-01-05T10:00:30Z', behaviour: () => ok() });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      await h.db.pool.query(`DELETE FROM extension_api_endpoint WHERE version_id = $1 AND path = '/sync'`, [h.ctx.versionId]);
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const [run] = await h.until(async () => {
        const r = await h.runs(id);
        return r.length && r[0].status === 'error' ? r : null;
      });
      assert.equal(run.error, 'Schedule endpoint not found; disabling schedule');
      const s = (await h.db.pool.query(`SELECT enabled, last_run_status, last_error FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
      assert.deepEqual(s, { enabled: false, last_run_status: 'error', last_error: 'Schedule endpoint not found; disabling schedule' });
      // Not retried: once its outcome reaches the queue the job is completed (terminal), not 'retry'.
      const job = await h.until(async () => {
        const { rows } = await h.db.pool.query(`SELECT state, retry_count FROM pgboss.job WHERE name = $1 AND data->>'scheduleId' = $2`, [INVOCATION_QUEUE, id]);
        return rows.length === 1 && !['created', 'active'].includes(rows[0].state) ? rows[0] : null;
      });
      assert.deepEqual(job, { state: 'completed', retry_count: 0 });
      assert.equal((await h.runs(id)).length, 1);
      assert.equal(h.runner.calls.length, 0);
    } finally {
      await h.stop();
    }
  });

  test('version mismatch: production\'s message', async () => {
    const h = await startHarness({ start: '2026-01-05T10:00:30Z', options: { maxAttempts: 1 } });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      const v2 = await h.db.pool.query(
        `INSERT INTO extension_version (registry_id, version, runtime, main_entry) VALUES ($1, '2.0.0', 'wasm-js@1', 'x') RETURNING id`,
        [h.ctx.registryId],
      );
      await h.db.pool.query(`INSERT INTO extension_bundle (version_id, content_hash) VALUES ($1, 'sha256:cd')`, [v2.rows[0].id]);
      await h.db.pool.query(`UPDATE tenant_extension_install SET version_id = $2 WHERE id = $1`, [h.ctx.installId, v2.rows[0].id]);
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const [run] = await h.until(async () => {
        const r = await h.runs(id);
        return r.length && r[0].status === 'error' ? r : null;
      });
      assert.equal(run.error, 'Schedule endpoint does not belong to installed version');
    } finally {
      await h.stop();
    }
  });
});
