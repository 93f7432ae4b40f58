import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPool } from '../../../src/server/db/database.js';
import {
  INVALID_JSON_REPLY,
  UNAUTHORIZED_REPLY,
  handleSchedulerOperation,
  type SchedulerOperationDeps,
} from '../../../src/server/internal-api/scheduler-operation.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createAdmission } from '../../../src/server/scheduler/rate-limit.js';
import { createSchedulerService } from '../../../src/server/scheduler/service.js';
import { createLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, insertSchedules } from '../../support/fixtures.js';

let db: TestDatabase;
let deps: SchedulerOperationDeps;
before(async () => {
  db = await createTestDatabase();
  deps = { service: createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine() }), admission: createAdmission({ pool: db.pool }) };
});
after(async () => db.drop());

const call = (installId: string, body: unknown) => handleSchedulerOperation(deps, installId, body);
const UNKNOWN_ID = '5b6f0d7e-0000-4000-8000-000000000000';
const NOT_FOUND = { status: 404, body: { error: 'Install not found', code: 'NOT_FOUND', details: null } };
const RATE_LIMITED = { status: 429, body: { error: 'Too many requests, please try again later', code: 'RATE_LIMITED', details: null } };

describe('request checks', () => {
  test('operation: a body that is not an object, or an unknown operation → 400 Validation error', async () => {
    const { installId } = await insertInstall(db.pool);
    for (const body of [null, 'list', [1], {}, { operation: 'explode' }]) {
      const r = await call(installId, body);
      assert.equal(r.status, 400);
      const b = r.body as { error: string; code: string; details: { formErrors: string[]; fieldErrors: Record<string, string[]> } };
      assert.equal(b.error, 'Validation error');
      assert.equal(b.code, 'VALIDATION_FAILED');
      assert.ok(Array.isArray(b.details.formErrors) && typeof b.details.fieldErrors === 'object');
    }
  });

  test('operation: the bad operation is answered before the install is looked up', async () => {
    assert.equal((await call(UNKNOWN_ID, { operation: 'nope' })).status, 400);
  });

  test('install: unknown, non-UUID, disabled, status disabled or pending → 404 NOT_FOUND (production-contract.md#scheduler-route)', async () => {
    const off = await insertInstall(db.pool, { enabled: false });
    const disabled = await insertInstall(db.pool, { status: 'disabled' });
    const pending = await insertInstall(db.pool, { status: 'pending' });
    for (const id of [UNKNOWN_ID, 'not-a-uuid', '', off.installId, disabled.installId, pending.installId]) {
      assert.deepEqual(await call(id, { operation: 'list' }), NOT_FOUND, id);
    }
  });

  test('HTTP helpers: production bodies for invalid JSON and a bad runner token', () => {
    assert.deepEqual(INVALID_JSON_REPLY, { status: 400, body: { error: 'Invalid JSON body', code: 'VALIDATION_FAILED', details: null } });
    assert.deepEqual(UNAUTHORIZED_REPLY, { status: 401, body: { error: 'Invalid runner token', code: 'UNAUTHORIZED', details: null } });
  });

  test('per-operation schema: a malformed scheduleId → 400 VALIDATION_FAILED for get, update, delete', async () => {
    const { installId } = await insertInstall(db.pool);
    for (const operation of ['get', 'update', 'delete']) {
      const r = await call(installId, { operation, scheduleId: 'abc' });
      assert.equal(r.status, 400, operation);
      assert.equal((r.body as { code: string }).code, 'VALIDATION_FAILED');
      assert.ok((r.body as { details: { fieldErrors: Record<string, unknown> } }).details.fieldErrors.scheduleId);
    }
  });

  test('per-operation schema: create needs endpoint and cron strings; limits on lengths', async () => {
    const { installId } = await insertInstall(db.pool);
    for (const body of [
      { operation: 'create', cron: '0 * * * *' },
      { operation: 'create', endpoint: '/status', cron: 5 },
      { operation: 'create', endpoint: '/status', cron: '0 * * * *', timezone: 'x'.repeat(65) },
      { operation: 'create', endpoint: '/status', cron: '0 * * * *', name: 'n'.repeat(129) },
      { operation: 'create', endpoint: '/status', cron: '0 * * * *', enabled: 'yes' },
    ]) {
      assert.equal((await call(installId, body)).status, 400, JSON.stringify(body).slice(0, 80));
    }
  });
});

describe('operations', () => {
  test('list → 200 {schedules}; get → 200 {schedule}; getEndpoints → 200 {endpoints}', async () => {
    const { installId } = await insertInstall(db.pool);
    assert.deepEqual(await call(installId, { operation: 'list' }), { status: 200, body: { schedules: [] } });
    assert.deepEqual(await call(installId, { operation: 'get', scheduleId: UNKNOWN_ID }), { status: 200, body: { schedule: null } });
    const eps = await call(installId, { operation: 'getEndpoints' });
    assert.equal(eps.status, 200);
    assert.equal((eps.body as { endpoints: unknown[] }).endpoints.length, 6);
  });

  test('list: the install lookup and the list are one query; the stored rows, oldest first; 404 for an inactive install', async () => {
    const ctx = await insertInstall(db.pool);
    for (const cron of ['5 * * * *', '10 * * * *', '15 * * * *']) {
      assert.equal((await deps.service.create(ctx, { endpoint: '/status', cron, payload: { n: 12345678901234567890 } })).success, true);
    }
    const queries: unknown[] = [];
    const spy = new Proxy(db.pool, {
      get: (target, key) => (key === 'query' ? (...args: unknown[]) => (queries.push(args[0]), (target.query as (...a: unknown[]) => unknown)(...args)) : Reflect.get(target, key)),
    });
    const spied = { ...deps, service: createSchedulerService({ pool: spy, jobs: createPostgresJobEngine() }) };
    const r = await handleSchedulerOperation(spied, ctx.installId, { operation: 'list' });
    assert.equal(queries.length, 1, 'one round trip');
    assert.equal(r.status, 200);
    const stored = await db.pool.query(
      `SELECT s.id, e.path, e.method, s.name, s.cron, s.timezone, s.enabled, s.payload_json, s.created_at
         FROM tenant_extension_schedule s JOIN extension_api_endpoint e ON e.id = s.endpoint_id
        WHERE s.install_id = $1 ORDER BY s.created_at, s.id`,
      [ctx.installId],
    );
    assert.deepEqual(r.body, {
      schedules: stored.rows.map((row) => ({
        id: row.id,
        endpointPath: row.path,
        endpointMethod: row.method,
        name: row.name,
        cron: row.cron,
        timezone: row.timezone,
        enabled: row.enabled,
        payload: row.payload_json,
        lastRunAt: null,
        lastRunStatus: null,
        lastError: null,
        createdAt: row.created_at.toISOString(),
      })),
    });
    assert.deepEqual(stored.rows.map((row) => [row.path, row.method, row.cron]), [
      ['/status', 'GET', '5 * * * *'],
      ['/status', 'GET', '10 * * * *'],
      ['/status', 'GET', '15 * * * *'],
    ]);
    assert.equal((r.body as { schedules: unknown[] }).schedules.length, 3);

    await db.pool.query(`UPDATE tenant_extension_install SET is_enabled = false WHERE id = $1`, [ctx.installId]);
    assert.deepEqual(await call(ctx.installId, { operation: 'list' }), NOT_FOUND);
  });

  test('create → 201 {success, scheduleId}; the tenant comes from the install, not the body', async () => {
    const ctx = await insertInstall(db.pool);
    const r = await call(ctx.installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *', tenantId: 'intruder', tenant_id: 'intruder' });
    assert.equal(r.status, 201);
    const { success, scheduleId } = r.body as { success: boolean; scheduleId: string };
    assert.equal(success, true);
    const row = (await db.pool.query(`SELECT tenant_id, install_id FROM tenant_extension_schedule WHERE id = $1`, [scheduleId])).rows[0];
    assert.deepEqual(row, { tenant_id: ctx.tenantId, install_id: ctx.installId });
    const got = await call(ctx.installId, { operation: 'get', scheduleId });
    assert.equal((got.body as { schedule: { id: string } }).schedule.id, scheduleId);
  });

  test('create → 400 {success:false, error, fieldErrors} with the real message (differences.md#field-errors)', async () => {
    const { installId } = await insertInstall(db.pool);
    assert.deepEqual(await call(installId, { operation: 'create', endpoint: '/status', cron: '*/1 9 * * *' }), {
      status: 400,
      body: {
        success: false,
        error: 'Cron too frequent (minimum interval is 5 minutes)',
        fieldErrors: { cron: 'Cron too frequent (minimum interval is 5 minutes)' },
      },
    });
  });

  test('create over quota → 400 with "Too many schedules" (not a debug rendering)', async () => {
    const ctx = await insertInstall(db.pool);
    await insertSchedules(db.pool, ctx, 50);
    assert.deepEqual(await call(ctx.installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *' }), {
      status: 400,
      body: { success: false, error: 'Too many schedules (max 50 per extension install)' },
    });
  });

  test('update → 200 / 400; delete → 200 / 400', async () => {
    const { installId } = await insertInstall(db.pool);
    const { scheduleId } = (await call(installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *', name: 'x' })).body as {
      scheduleId: string;
    };
    assert.deepEqual(await call(installId, { operation: 'update', scheduleId, cron: '10 * * * *' }), { status: 200, body: { success: true } });
    assert.deepEqual(await call(installId, { operation: 'update', scheduleId: UNKNOWN_ID, cron: '10 * * * *' }), {
      status: 400,
      body: { success: false, error: 'Schedule not found' },
    });
    assert.deepEqual(await call(installId, { operation: 'delete', scheduleId }), { status: 200, body: { success: true } });
    assert.deepEqual(await call(installId, { operation: 'delete', scheduleId }), { status: 400, body: { success: false, error: 'Schedule not found' } });
  });

  // docs/differences.md#partial-update through the route: production's route passes name/payload as undefined and clears them.
  test('update through the internal API: omitted name and payload are kept; name null clears', async () => {
    const { installId } = await insertInstall(db.pool);
    const { scheduleId } = (await call(installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *', name: 'keep', payload: { a: 1 } }))
      .body as { scheduleId: string };
    await call(installId, { operation: 'update', scheduleId, enabled: false });
    let s = ((await call(installId, { operation: 'get', scheduleId })).body as { schedule: { name: string | null; payload: unknown; enabled: boolean } }).schedule;
    assert.deepEqual([s.name, s.payload, s.enabled], ['keep', { a: 1 }, false]);
    await call(installId, { operation: 'update', scheduleId, name: null, payload: null });
    s = ((await call(installId, { operation: 'get', scheduleId })).body as { schedule: { name: string | null; payload: unknown; enabled: boolean } }).schedule;
    assert.deepEqual([s.name, s.payload], [null, null]);
  });
});

describe('rate limit', () => {
  test('rate limit: the 11th create/update/delete within 60 s → 429 RATE_LIMITED (production-contract.md#rate-limit)', async () => {
    const { installId } = await insertInstall(db.pool);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(installId, { operation: 'create', endpoint: '/status', cron: `${i} * * * *` })).status);
    for (let i = 0; i < 3; i++) statuses.push((await call(installId, { operation: 'update', scheduleId: UNKNOWN_ID, cron: '5 * * * *' })).status);
    for (let i = 0; i < 3; i++) statuses.push((await call(installId, { operation: 'delete', scheduleId: UNKNOWN_ID })).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 400, 400, 400, 400, 400, 400]);
    assert.deepEqual(await call(installId, { operation: 'delete', scheduleId: UNKNOWN_ID }), RATE_LIMITED);
    assert.deepEqual(await call(installId, { operation: 'create', endpoint: '/status', cron: '30 * * * *' }), RATE_LIMITED);
  });

  test('rate limit: invalid create calls count too; list, get and getEndpoints do not', async () => {
    const { installId } = await insertInstall(db.pool);
    for (let i = 0; i < 20; i++) {
      assert.equal((await call(installId, { operation: i % 2 ? 'list' : 'getEndpoints' })).status, 200);
    }
    for (let i = 0; i < 10; i++) assert.equal((await call(installId, { operation: 'create', cron: 7 })).status, 400);
    assert.deepEqual(await call(installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *' }), RATE_LIMITED);
  });

  // docs/differences.md#shared-rate-limit: production rate-limits before the install lookup, so the 11th call here is a 429.
  test('rate limit: calls for an unknown install are 404, never rate limited', async () => {
    for (let i = 0; i < 15; i++) {
      assert.deepEqual(await call(UNKNOWN_ID, { operation: 'create', endpoint: '/status', cron: '0 * * * *' }), NOT_FOUND);
    }
  });
});

describe('failures', () => {
  // docs/differences.md#readiness: an unreachable database is an outage (503), not an internal error.
  test('an unreachable database → 503 Service unavailable with no details, logged without a stack', async () => {
    const lines: string[] = [];
    const broken = createPool('postgres://nobody:nothing@127.0.0.1:1/none', 1);
    const brokenDeps = {
      service: createSchedulerService({ pool: broken, jobs: createPostgresJobEngine() }),
      admission: createAdmission({ pool: broken }),
      logger: createLogger({ write: (l) => lines.push(l) }),
    };
    const r = await handleSchedulerOperation(brokenDeps, UNKNOWN_ID, { operation: 'list' });
    assert.deepEqual(r, { status: 503, body: { error: 'Service unavailable: the database is unreachable', code: 'SERVICE_UNAVAILABLE', details: null } });
    assert.equal(lines.length, 1);
    assert.match(lines[0], /\[ext-scheduler-internal\] database unavailable/);
    assert.doesNotMatch(lines[0], /\n\s+at /, 'no stack');
    await broken.end();
  });

  // docs/differences.md#error-categories: production's get swallows every error and answers {schedule: null}.
  test('get: a database failure during the read is a 500, not a null schedule', async () => {
    const { installId } = await insertInstall(db.pool);
    await db.pool.query(`ALTER TABLE tenant_extension_schedule RENAME TO tenant_extension_schedule_away`);
    try {
      const r = await call(installId, { operation: 'get', scheduleId: UNKNOWN_ID });
      assert.deepEqual(r, { status: 500, body: { error: 'Internal error', code: 'INTERNAL_ERROR' } });
      assert.equal((await call(installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *' })).status, 500);
    } finally {
      await db.pool.query(`ALTER TABLE tenant_extension_schedule_away RENAME TO tenant_extension_schedule`);
    }
  });
});
