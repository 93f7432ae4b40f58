import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createSchedulerService, type InstallContext, type SchedulerService } from '../../../src/server/scheduler/service.js';
import { MESSAGES } from '../../../src/server/scheduler/validation.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, insertSchedules, snapshotSchedulerState } from '../../support/fixtures.js';

let db: TestDatabase;
let svc: SchedulerService;
before(async () => {
  db = await createTestDatabase();
  svc = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine() });
});
after(async () => db.drop());

const newInstall = async (opts = {}): Promise<InstallContext> => insertInstall(db.pool, opts);
const scheduleRow = async (id: string) => (await db.pool.query(`SELECT * FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
const jobRow = async (id: string) => (await db.pool.query(`SELECT * FROM jobs WHERE job_id = $1`, [id])).rows[0];
const jobsFor = async (scheduleId: string) =>
  (await db.pool.query(`SELECT * FROM jobs WHERE metadata->>'scheduleId' = $1 ORDER BY created_at, status`, [scheduleId])).rows;

async function created(ctx: InstallContext, input: Parameters<SchedulerService['create']>[1]): Promise<string> {
  const r = await svc.create(ctx, input);
  assert.equal(r.success, true, JSON.stringify(r));
  return r.scheduleId!;
}

describe('list / get', () => {
  test('list: an install without schedules gives []', async () => {
    assert.deepEqual((await svc.listForInstall((await newInstall()).installId))?.schedules, []);
  });

  test("list: only the calling install's schedules, oldest first, typed fields (production-contract.md#scheduler-shapes)", async () => {
    const a = await newInstall();
    const b = await newInstall({ tenantId: a.tenantId });
    const first = await created(a, { endpoint: '/status', cron: '0 * * * *', name: 'first', payload: { x: 1 } });
    const second = await created(a, { endpoint: 'POST /sync', cron: '*/15 * * * *', enabled: false });
    await created(b, { endpoint: '/status', cron: '0 * * * *' });
    const list = (await svc.listForInstall(a.installId))!.schedules;
    assert.deepEqual(list.map((s) => s.id), [first, second]);
    const [s1, s2] = list;
    assert.equal(s1.endpointPath, '/status');
    assert.equal(s1.endpointMethod, 'GET');
    assert.equal(s1.cron, '0 * * * *');
    assert.equal(s1.timezone, 'UTC');
    assert.equal(s1.enabled, true);
    assert.equal(s1.name, 'first');
    assert.deepEqual(s1.payload, { x: 1 });
    assert.equal(s1.lastRunAt, null);
    assert.match(s1.createdAt!, /^\d{4}-\d\d-\d\dT/);
    assert.equal(s2.enabled, false);
    assert.equal(s2.endpointMethod, 'POST');
    assert.equal(s2.payload, null);
  });

  test("get: own schedule; null for an unknown id and for another install's schedule (production-contract.md#scheduler-shapes)", async () => {
    const a = await newInstall();
    const b = await newInstall();
    const id = await created(a, { endpoint: '/status', cron: '0 * * * *' });
    assert.equal((await svc.get(a, id))?.id, id);
    assert.equal(await svc.get(a, '5b6f0d7e-0000-4000-8000-000000000000'), null);
    assert.equal(await svc.get(b, id), null);
  });
});

describe('create', () => {
  test("create: persists the row with the caller's tenant, install and an endpoint of the install's version (production-contract.md#scheduler-operations)", async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: 'status', cron: ' 0 9 * * 1 ', timezone: 'Europe/Paris', name: ' weekly ' });
    const row = await scheduleRow(id);
    assert.equal(row.tenant_id, ctx.tenantId);
    assert.equal(row.install_id, ctx.installId);
    assert.equal(row.cron, '0 9 * * 1');
    assert.equal(row.timezone, 'Europe/Paris');
    assert.equal(row.name, 'weekly');
    const ep = (await db.pool.query(`SELECT version_id, method, path FROM extension_api_endpoint WHERE id = $1`, [row.endpoint_id])).rows[0];
    assert.deepEqual(ep, { version_id: ctx.versionId, method: 'GET', path: '/status' });
  });

  test('create: rejects a cron that fires every minute', async () => {
    const ctx = await newInstall();
    for (const cron of ['* * * * *', '0-59 * * * *']) {
      assert.deepEqual(await svc.create(ctx, { endpoint: '/status', cron }), {
        success: false,
        error: MESSAGES.cronTooFrequent,
        fieldErrors: { cron: MESSAGES.cronTooFrequent },
      });
    }
  });

  test('create: rejects a cron too frequent only across DST in its zone, accepts it in UTC', async () => {
    const ctx = await newInstall();
    const r = await svc.create(ctx, { endpoint: '/status', cron: '1,58 1,3 * * *', timezone: 'America/New_York' });
    assert.equal(r.fieldErrors?.cron, MESSAGES.cronTooFrequent);
    assert.equal((await svc.create(ctx, { endpoint: '/status', cron: '1,58 1,3 * * *' })).success, true);
  });

  test('create: invalid cron and timezone give fieldErrors.cron / fieldErrors.timezone (production-contract.md#scheduler-validation)', async () => {
    const ctx = await newInstall();
    assert.equal((await svc.create(ctx, { endpoint: '/status', cron: '* * *' })).fieldErrors?.cron, MESSAGES.cronFieldCount);
    assert.deepEqual((await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *', timezone: 'Nowhere/City' })).fieldErrors, {
      timezone: MESSAGES.timezoneInvalid,
    });
  });

  // Postgres cannot store or compare NUL; production answers these with a 500.
  test('create and update: a NUL in the name, payload or endpoint is a field error, and nothing is written', async () => {
    const ctx = await newInstall();
    const made = await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'ok' });
    assert.equal(made.success, true);
    const before = await snapshotSchedulerState(db.pool);
    assert.deepEqual((await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'a\0b' })).fieldErrors, { name: MESSAGES.nameNul });
    assert.deepEqual((await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *', payload: { k: 'x\0' } })).fieldErrors, { payload: MESSAGES.payloadNul });
    assert.equal((await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *', payload: { k: '\\u0000 is text' } })).success, true, 'an escaped backslash is fine');
    assert.deepEqual((await svc.create(ctx, { endpoint: '/sta\0tus', cron: '0 * * * *' })).fieldErrors, { endpoint: MESSAGES.endpointNotSchedulable });
    assert.deepEqual((await svc.update(ctx, made.scheduleId!, { name: '\0' })).fieldErrors, { name: MESSAGES.nameNul });
    assert.deepEqual((await svc.update(ctx, made.scheduleId!, { endpoint: '/sta\0tus' })).fieldErrors, { endpoint: MESSAGES.endpointNotSchedulable });
    const after = await snapshotSchedulerState(db.pool);
    assert.equal(after.tenant_extension_schedule!.length, before.tenant_extension_schedule!.length + 1, 'only the valid create wrote a row');
  });

  test('create: endpoint field error for an unknown path, a path parameter, PUT and DELETE (production-contract.md#scheduler-endpoints)', async () => {
    const ctx = await newInstall();
    for (const endpoint of ['/missing', '/items/:id', 'GET /items/:id', '/things/{id}', 'PUT /items', 'DELETE /items', '/items']) {
      assert.deepEqual(await svc.create(ctx, { endpoint, cron: '0 * * * *' }), {
        success: false,
        error: MESSAGES.endpointNotSchedulable,
        fieldErrors: { endpoint: MESSAGES.endpointNotSchedulable },
      }, endpoint);
    }
    assert.equal((await svc.create(ctx, { endpoint: 'GET /status', cron: '0 * * * *' })).success, true);
    assert.equal((await svc.create(ctx, { endpoint: 'post //sync', cron: '0 * * * *' })).success, true);
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM tenant_extension_schedule WHERE install_id = $1`, [ctx.installId])).rows[0].n, 2);
  });

  test('create: enabled defaults to true and schedules exactly one job with trigger host_api and the singleton key (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *', timezone: 'Asia/Tokyo' });
    const row = await scheduleRow(id);
    assert.equal(row.enabled, true);
    const jobs = await jobsFor(id);
    assert.equal(jobs.length, 1);
    assert.equal(row.job_id, jobs[0].job_id);
    assert.equal(row.runner_schedule_id, `extsched:${ctx.installId}:${id}`);
    assert.equal(jobs[0].tenant, ctx.tenantId);
    assert.equal(jobs[0].type, 'extension-scheduled-invocation');
    assert.equal(jobs[0].status, 'scheduled');
    assert.equal(jobs[0].external_id, `extsched:${ctx.installId}:${id}`);
    assert.equal(jobs[0].metadata.trigger, 'host_api');
    assert.equal(jobs[0].metadata.kind, 'extension_schedule');
    assert.equal(jobs[0].metadata.timezone, 'Asia/Tokyo');
    assert.equal(jobs[0].metadata.singletonKey, `extsched:${ctx.installId}:${id}`);
  });

  test('create: enabled=false persists the row and schedules no job', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *', enabled: false });
    const row = await scheduleRow(id);
    assert.equal(row.enabled, false);
    assert.equal(row.job_id, null);
    assert.equal(row.runner_schedule_id, null);
    assert.equal((await jobsFor(id)).length, 0);
  });

  test('create: payload rules (production-contract.md#scheduler-validation)', async () => {
    const ctx = await newInstall();
    assert.equal((await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *', payload: 'text' })).fieldErrors?.payload, MESSAGES.payloadShape);
    const arr = await created(ctx, { endpoint: '/status', cron: '0 * * * *', payload: [1, { a: 'b' }] });
    assert.deepEqual((await scheduleRow(arr)).payload_json, [1, { a: 'b' }]);
  });

  test('create: a duplicate name within an install is a name field error; other installs may reuse it (production-contract.md#scheduler-validation)', async () => {
    const ctx = await newInstall();
    await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'nightly' });
    assert.deepEqual(await svc.create(ctx, { endpoint: '/status', cron: '5 * * * *', name: 'nightly' }), {
      success: false,
      error: MESSAGES.nameInUse,
      fieldErrors: { name: MESSAGES.nameInUse },
    });
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE tenant = $1`, [ctx.tenantId])).rows[0].n, 1, 'the rolled-back job is gone');
    assert.equal((await svc.create(await newInstall(), { endpoint: '/status', cron: '0 * * * *', name: 'nightly' })).success, true);
  });

  test('create: the 51st schedule fails with "Too many schedules" and no field error (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    await insertSchedules(db.pool, ctx, 50);
    assert.deepEqual(await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *' }), {
      success: false,
      error: 'Too many schedules (max 50 per extension install)',
    });
  });

  // docs/differences.md#atomic-quota: production counts then inserts without a lock; concurrent creates overshoot.
  test('create: 50 concurrent creates against 49 existing schedules make exactly one row', async () => {
    const ctx = await newInstall();
    await insertSchedules(db.pool, ctx, 49);
    // Open every pooled connection first, so the creates really run side by side (no connect delays).
    await Promise.all(Array.from({ length: 20 }, () => db.pool.query('SELECT pg_sleep(0.05)')));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => svc.create(ctx, { endpoint: '/status', cron: `${i} * * * *` })));
    assert.equal(results.filter((r) => r.success).length, 1);
    assert.ok(results.filter((r) => !r.success).every((r) => r.error === MESSAGES.tooManySchedules));
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM tenant_extension_schedule WHERE install_id = $1`, [ctx.installId])).rows[0].n, 50);
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE tenant = $1`, [ctx.tenantId])).rows[0].n, 1);
  });

  test('create: touches the install updated_at', async () => {
    const ctx = await newInstall();
    await db.pool.query(`UPDATE tenant_extension_install SET updated_at = '2000-01-01' WHERE id = $1`, [ctx.installId]);
    await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    const { updated_at } = (await db.pool.query(`SELECT updated_at FROM tenant_extension_install WHERE id = $1`, [ctx.installId])).rows[0];
    assert.ok(updated_at.getFullYear() > 2000);
  });
});

describe('update', () => {
  test('update: persists a new cron and changes the endpoint by path (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    assert.deepEqual(await svc.update(ctx, id, { cron: '*/30 * * * *', endpoint: 'POST /sync' }), { success: true });
    const info = await svc.get(ctx, id);
    assert.equal(info?.cron, '*/30 * * * *');
    assert.equal(info?.endpointPath, '/sync');
    assert.equal(info?.endpointMethod, 'POST');
  });

  test('update: validates cron, timezone and endpoint with field errors', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    assert.equal((await svc.update(ctx, id, { cron: '*/2 * * * *' })).fieldErrors?.cron, MESSAGES.cronTooFrequent);
    assert.equal((await svc.update(ctx, id, { timezone: 'Bad/Zone' })).fieldErrors?.timezone, MESSAGES.timezoneInvalid);
    assert.equal((await svc.update(ctx, id, { endpoint: '/nope' })).fieldErrors?.endpoint, MESSAGES.endpointNotSchedulable);
    assert.equal((await scheduleRow(id)).cron, '0 * * * *');
  });

  test('update: a timezone change re-checks the stored cron in the new zone (DST)', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '1,58 1,3 * * *' });
    assert.equal((await svc.update(ctx, id, { timezone: 'America/New_York' })).fieldErrors?.cron, MESSAGES.cronTooFrequent);
    assert.equal((await scheduleRow(id)).timezone, 'UTC');
  });

  test('update: a cron change cancels the old job and schedules one new job (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    const oldJob = (await scheduleRow(id)).job_id;
    assert.equal((await svc.update(ctx, id, { cron: '15 * * * *' })).success, true);
    const row = await scheduleRow(id);
    assert.notEqual(row.job_id, oldJob);
    assert.equal((await jobRow(oldJob)).status, 'cancelled');
    assert.equal((await jobRow(row.job_id)).status, 'scheduled');
    assert.equal((await jobRow(row.job_id)).metadata.trigger, 'host_api');
    assert.equal((await jobsFor(id)).length, 2);
  });

  test('update: disabling cancels the job and nulls the handles; re-enabling schedules one (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'keep', payload: { a: 1 } });
    const oldJob = (await scheduleRow(id)).job_id;
    assert.equal((await svc.update(ctx, id, { enabled: false })).success, true);
    let row = await scheduleRow(id);
    assert.equal(row.enabled, false);
    assert.equal(row.job_id, null);
    assert.equal(row.runner_schedule_id, null);
    assert.equal((await jobRow(oldJob)).status, 'cancelled');
    assert.equal((await svc.update(ctx, id, { enabled: true })).success, true);
    row = await scheduleRow(id);
    assert.equal(row.enabled, true);
    assert.equal((await jobRow(row.job_id)).status, 'scheduled');
    assert.equal(row.cron, '0 * * * *');
    assert.equal(row.name, 'keep');
    assert.deepEqual(row.payload_json, { a: 1 });
  });

  test('update: a name or endpoint change does not reschedule', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    const before = await scheduleRow(id);
    assert.equal((await svc.update(ctx, id, { name: 'renamed', endpoint: 'POST /sync' })).success, true);
    const after = await scheduleRow(id);
    assert.equal(after.job_id, before.job_id);
    assert.equal((await jobsFor(id)).length, 1);
  });

  // docs/differences.md#partial-update: production's route sets name and payload to NULL whenever an update omits them.
  test('update: omitting name and payload leaves them as they are', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'nightly', payload: { big: 12345678901234567890 } });
    const stored = (await db.pool.query(`SELECT payload_json::text AS t FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0].t;
    assert.equal((await svc.update(ctx, id, { cron: '30 * * * *' })).success, true);
    const row = (await db.pool.query(`SELECT name, payload_json::text AS t FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
    assert.equal(row.name, 'nightly');
    assert.equal(row.t, stored, 'payload kept byte for byte');
  });

  test('update: payload null or "" clears it; name "" or null clears it (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    const a = await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'a', payload: { x: 1 } });
    const b = await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'b', payload: { x: 1 } });
    assert.equal((await svc.update(ctx, a, { payload: null, name: '' })).success, true);
    assert.equal((await svc.update(ctx, b, { payload: '', name: null })).success, true);
    for (const id of [a, b]) {
      const row = await scheduleRow(id);
      assert.equal(row.payload_json, null);
      assert.equal(row.name, null);
    }
    assert.equal((await svc.update(ctx, a, { payload: { y: 2 } })).success, true);
    assert.deepEqual((await scheduleRow(a)).payload_json, { y: 2 });
  });

  test('update: renaming to a name in use is a name field error', async () => {
    const ctx = await newInstall();
    await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'taken' });
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'mine' });
    assert.equal((await svc.update(ctx, id, { name: 'taken' })).fieldErrors?.name, MESSAGES.nameInUse);
    assert.equal((await scheduleRow(id)).name, 'mine');
  });

  test("update and delete: an unknown id or another install's id → not found (production-contract.md#scheduler-operations)", async () => {
    const a = await newInstall();
    const b = await newInstall();
    const id = await created(a, { endpoint: '/status', cron: '0 * * * *' });
    const unknown = '5b6f0d7e-0000-4000-8000-000000000000';
    for (const [ctx, sid] of [[a, unknown], [b, id]] as const) {
      assert.deepEqual(await svc.update(ctx, sid, { cron: '5 * * * *' }), { success: false, error: 'Schedule not found' });
      assert.deepEqual(await svc.delete(ctx, sid), { success: false, error: 'Schedule not found' });
    }
    assert.ok(await scheduleRow(id));
  });

  test('update and delete: a missing or malformed schedule id is a validation failure', async () => {
    const ctx = await newInstall();
    assert.deepEqual(await svc.update(ctx, ' ', {}), { success: false, error: MESSAGES.scheduleIdMissing });
    assert.deepEqual(await svc.delete(ctx, 'abc'), {
      success: false,
      error: MESSAGES.scheduleIdInvalid,
      fieldErrors: { scheduleId: MESSAGES.scheduleIdInvalid },
    });
  });
});

describe('delete', () => {
  test('delete: removes the row and cancels its job once (production-contract.md#scheduler-operations)', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    const job = (await scheduleRow(id)).job_id;
    assert.deepEqual(await svc.delete(ctx, id), { success: true });
    assert.equal(await scheduleRow(id), undefined);
    assert.equal((await jobRow(job)).status, 'cancelled');
    assert.equal((await jobsFor(id)).length, 1);
  });

  test('delete: succeeds for a disabled schedule without a job handle', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *', enabled: false });
    assert.deepEqual(await svc.delete(ctx, id), { success: true });
    assert.equal(await scheduleRow(id), undefined);
  });

  test('delete: when the job engine does not know the job the row is kept and the error mentions cancel', async () => {
    const ctx = await newInstall();
    const id = await created(ctx, { endpoint: '/status', cron: '0 * * * *' });
    await db.pool.query(`DELETE FROM jobs WHERE job_id = $1`, [(await scheduleRow(id)).job_id]);
    const r = await svc.delete(ctx, id);
    assert.equal(r.success, false);
    assert.match(r.error!, /cancel/);
    assert.ok(await scheduleRow(id));
  });
});

describe('getEndpoints', () => {
  test('getEndpoints: all endpoints of the version ordered by path, with schedulable computed', async () => {
    const ctx = await newInstall();
    const eps = await svc.getEndpoints(ctx);
    assert.deepEqual(
      eps.map((e) => [e.method, e.path, e.schedulable]),
      [
        ['DELETE', '/items', false],
        ['PUT', '/items', false],
        ['GET', '/items/:id', false],
        ['GET', '/status', true],
        ['POST', '/sync', true],
        ['POST', '/things/{id}', false],
      ],
    );
    assert.ok(eps.every((e) => typeof e.id === 'string' && typeof e.handler === 'string'));
  });

  test('getEndpoints: materializes lazily when the version has no rows yet', async () => {
    const ctx = await newInstall({ materialize: false, endpoints: [{ method: 'post', path: 'run', handler: 'run' }] });
    assert.deepEqual((await svc.getEndpoints(ctx)).map((e) => `${e.method} ${e.path}`), ['POST /run']);
  });

  test('create: resolves an endpoint that was never materialized (lazy, retried once)', async () => {
    const ctx = await newInstall({ materialize: false, endpoints: [{ method: 'GET', path: '/lazy', handler: 'l' }] });
    assert.equal((await svc.create(ctx, { endpoint: 'lazy', cron: '0 * * * *' })).success, true);
  });
});
