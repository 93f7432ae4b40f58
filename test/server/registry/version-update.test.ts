/** Version update with schedule remap (docs/production-contract.md#version-update). */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { request } from 'undici';
import { materializeEndpoints } from '../../../src/server/registry/endpoints.js';
import { DISABLED_MISSING_ENDPOINT, REMAP_BLOCKED_MESSAGE, updateInstallVersion } from '../../../src/server/registry/version-update.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createSchedulerService, type InstallContext } from '../../../src/server/scheduler/service.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, snapshotSchedulerState } from '../../support/fixtures.js';
import { startTestPlatform } from '../../support/platform.js';
import { projectRoot } from '../../support/components.js';

let db: TestDatabase;
const jobs = createPostgresJobEngine();
before(async () => {
  db = await createTestDatabase();
});
after(async () => db?.drop());

async function addVersion(pool: pg.Pool, registryId: string, version: string, endpoints: { method: string; path: string; handler: string }[]): Promise<string> {
  const r = await pool.query<{ id: string }>(
    `INSERT INTO extension_version (registry_id, version, runtime, main_entry, api_endpoints) VALUES ($1, $2, 'wasm-js@1', 'dist/main.wasm', $3::jsonb) RETURNING id`,
    [registryId, version, JSON.stringify(endpoints)],
  );
  await materializeEndpoints(pool, r.rows[0]!.id);
  return r.rows[0]!.id;
}

async function setup() {
  const inst = await insertInstall(db.pool, {
    endpoints: [
      { method: 'GET', path: '/status', handler: 'h' },
      { method: 'POST', path: '/sync', handler: 'h' },
    ],
  });
  const service = createSchedulerService({ pool: db.pool, jobs, logger: silentLogger });
  const ctx: InstallContext = inst;
  const status = (await service.create(ctx, { endpoint: 'GET /status', cron: '0 * * * *', name: 'status' })).scheduleId!;
  const sync = (await service.create(ctx, { endpoint: 'POST /sync', cron: '0 * * * *', name: 'sync' })).scheduleId!;
  const off = (await service.create(ctx, { endpoint: 'GET /status', cron: '30 * * * *', name: 'off', enabled: false })).scheduleId!;
  return { inst, status, sync, off };
}

const row = async (id: string) => (await db.pool.query(`SELECT s.*, e.version_id AS endpoint_version FROM tenant_extension_schedule s JOIN extension_api_endpoint e ON e.id = s.endpoint_id WHERE s.id = $1`, [id])).rows[0];

describe('version update', () => {
  test('remaps every schedule by (METHOD, path), keeps enabled and disabled as they were, and sets the version', async () => {
    const { inst, status, sync, off } = await setup();
    const v2 = await addVersion(db.pool, inst.registryId, '2.0.0', [
      { method: 'get', path: 'status', handler: 'h2' },
      { method: 'POST', path: '//sync', handler: 'h2' },
    ]);
    const r = await updateInstallVersion(db.pool, jobs, { tenantId: inst.tenantId, registryId: inst.registryId, version: '2.0.0' });
    assert.deepEqual(r, { success: true, remapped: 3, disabled: [] });
    for (const id of [status, sync, off]) assert.equal((await row(id)).endpoint_version, v2);
    assert.equal((await row(status)).enabled, true);
    assert.equal((await row(off)).enabled, false);
    const installed = await db.pool.query(`SELECT version_id FROM tenant_extension_install WHERE id = $1`, [inst.installId]);
    assert.equal(installed.rows[0].version_id, v2);
  });

  test('an unmatched schedule blocks it with SCHEDULE_REMAP_FAILED, listing it; nothing changes', async () => {
    const { inst, sync } = await setup();
    await addVersion(db.pool, inst.registryId, '3.0.0', [{ method: 'GET', path: '/status', handler: 'h' }]);
    const before = await snapshotSchedulerState(db.pool);
    const r = await updateInstallVersion(db.pool, jobs, { tenantId: inst.tenantId, registryId: inst.registryId, version: '3.0.0' });
    assert.deepEqual(r, { success: false, code: 'SCHEDULE_REMAP_FAILED', message: REMAP_BLOCKED_MESSAGE, missing: [{ scheduleId: sync, method: 'POST', path: '/sync' }] });
    assert.deepEqual(await snapshotSchedulerState(db.pool), before);
  });

  test('disableMissingSchedules: only the unmatched are disabled (handles cleared, last_error says why); the rest stay enabled', async () => {
    const { inst, status, sync } = await setup();
    const syncJob = (await row(sync)).job_id;
    await addVersion(db.pool, inst.registryId, '4.0.0', [{ method: 'GET', path: '/status', handler: 'h' }]);
    const r = await updateInstallVersion(db.pool, jobs, { tenantId: inst.tenantId, registryId: inst.registryId, version: '4.0.0', disableMissingSchedules: true });
    assert.equal(r.success, true);
    const s = await db.pool.query(`SELECT enabled, job_id, runner_schedule_id, last_error FROM tenant_extension_schedule WHERE id = $1`, [sync]);
    assert.deepEqual(s.rows[0], { enabled: false, job_id: null, runner_schedule_id: null, last_error: DISABLED_MISSING_ENDPOINT });
    assert.match(DISABLED_MISSING_ENDPOINT, /missing endpoint/);
    assert.equal((await db.pool.query(`SELECT status FROM jobs WHERE job_id = $1`, [syncJob])).rows[0].status, 'cancelled');
    assert.equal((await db.pool.query(`SELECT 1 FROM extension_schedule_dispatch WHERE schedule_id = $1`, [sync])).rowCount, 0);
    assert.equal((await row(status)).enabled, true);
  });

  test('an enabled schedule without a runner handle gets one again', async () => {
    const { inst, status } = await setup();
    await db.pool.query(`UPDATE tenant_extension_schedule SET job_id = NULL, runner_schedule_id = NULL WHERE id = $1`, [status]);
    await db.pool.query(`DELETE FROM extension_schedule_dispatch WHERE schedule_id = $1`, [status]);
    await addVersion(db.pool, inst.registryId, '5.0.0', [
      { method: 'GET', path: '/status', handler: 'h' },
      { method: 'POST', path: '/sync', handler: 'h' },
    ]);
    assert.equal((await updateInstallVersion(db.pool, jobs, { tenantId: inst.tenantId, registryId: inst.registryId, version: '5.0.0' })).success, true);
    const r = await row(status);
    assert.ok(r.job_id && r.runner_schedule_id);
    assert.equal((await db.pool.query(`SELECT 1 FROM extension_schedule_dispatch WHERE schedule_id = $1`, [status])).rowCount, 1);
  });

  test('unknown install or version: production\'s not-found answers', async () => {
    const { inst } = await setup();
    assert.deepEqual(await updateInstallVersion(db.pool, jobs, { tenantId: 'nobody', registryId: inst.registryId, version: '1.0.0' }), { success: false, code: 'NOT_FOUND', message: 'Install not found' });
    assert.deepEqual(await updateInstallVersion(db.pool, jobs, { tenantId: inst.tenantId, registryId: inst.registryId, version: '9.9.9' }), { success: false, code: 'NOT_FOUND', message: 'Target version not found' });
  });
});

test('platform: a new manifest version in `dev` remaps, refuses when an endpoint vanished; update answers 409; disable, enable, uninstall over HTTP', async () => {
  const tp = await startTestPlatform();
  const root = mkdtempSync(join(tmpdir(), 'alga-remap-'));
  // The sample imports the SDK by relative path: copy both, side by side as in the repo.
  const dir = join(root, 'components', 'scheduler-demo');
  try {
    cpSync(join(projectRoot(), 'components', 'scheduler-demo'), dir, { recursive: true });
    cpSync(join(projectRoot(), 'components', 'sdk'), join(root, 'components', 'sdk'), { recursive: true });
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    await tp.platform.installDir(dir, { tenantId: 'remap' });
    const setup = await tp.call('POST', 'com.alga.sample.scheduler-demo', '/api/setup', { tenant: 'remap', body: {} });
    assert.equal(setup.status, 200, setup.text);

    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: '1.1.0' }));
    await tp.platform.installDir(dir, { tenantId: 'remap' });
    const afterMove = await tp.call('GET', 'com.alga.sample.scheduler-demo', '/api/schedules', { tenant: 'remap' });
    assert.equal(afterMove.json.schedules.length, 2, afterMove.text);

    const withoutHeartbeat = manifest.api.endpoints.filter((e: { path: string }) => e.path !== '/api/heartbeat');
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: '1.2.0', api: { endpoints: withoutHeartbeat } }));
    await assert.rejects(tp.platform.installDir(dir, { tenantId: 'remap' }), /Extension update blocked: .*POST \/api\/heartbeat/);

    const reg = await tp.db.pool.query(`SELECT id FROM extension_registry WHERE name = 'com.alga.sample.scheduler-demo'`);
    const res = await request(`${tp.url}/api/v1/extensions/update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-alga-tenant': 'remap' },
      body: JSON.stringify({ registryId: reg.rows[0].id, version: '1.2.0' }),
    });
    assert.equal(res.statusCode, 409);
    const body = (await res.body.json()) as { code: string; missing: { path: string }[] };
    assert.equal(body.code, 'SCHEDULE_REMAP_FAILED');
    assert.deepEqual(body.missing.map((m) => m.path), ['/api/heartbeat']);

    const lifecycle = async (action: string) => {
      const r = await request(`${tp.url}/api/v1/extensions/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-alga-tenant': 'remap' },
        body: JSON.stringify({ registryId: reg.rows[0].id }),
      });
      return { status: r.statusCode, body: (await r.body.json()) as { data: { success: boolean } } };
    };
    assert.equal((await lifecycle('disable')).body.data.success, true);
    assert.equal((await tp.call('GET', 'com.alga.sample.scheduler-demo', '/api/status', { tenant: 'remap' })).json.error, 'extension_disabled');
    assert.equal((await lifecycle('enable')).body.data.success, true);
    assert.equal((await tp.call('GET', 'com.alga.sample.scheduler-demo', '/api/status', { tenant: 'remap' })).status, 200);
    assert.equal((await lifecycle('uninstall')).body.data.success, true);
    assert.equal((await tp.call('GET', 'com.alga.sample.scheduler-demo', '/api/status', { tenant: 'remap' })).json.error, 'extension_not_found');
  } finally {
    rmSync(root, { recursive: true, force: true });
    await tp.stop();
  }
});
