/** Disable, enable and uninstall (docs/production-contract.md#lifecycle). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setInstallEnabled, uninstallExtension } from '../../../src/server/registry/install-lifecycle.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { failingJobEngine } from '../../support/failing-job-engine.js';
import { createSchedulerService, type InstallContext } from '../../../src/server/scheduler/service.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, snapshotSchedulerState } from '../../support/fixtures.js';

let db: TestDatabase;
const jobs = createPostgresJobEngine();
before(async () => {
  db = await createTestDatabase();
});
after(async () => db?.drop());

async function installWithSchedules() {
  const inst = await insertInstall(db.pool);
  const service = createSchedulerService({ pool: db.pool, jobs, logger: silentLogger });
  const ctx: InstallContext = inst;
  const on = (await service.create(ctx, { endpoint: '/status', cron: '0 * * * *' })).scheduleId!;
  const off = (await service.create(ctx, { endpoint: '/status', cron: '30 * * * *', enabled: false })).scheduleId!;
  return { inst, on, off, ref: { tenantId: inst.tenantId, registryId: inst.registryId } };
}

const schedule = async (id: string) =>
  (await db.pool.query(`SELECT enabled, job_id, runner_schedule_id FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
const dispatched = async (id: string) => (await db.pool.query(`SELECT 1 FROM extension_schedule_dispatch WHERE schedule_id = $1`, [id])).rowCount;

test('disable: cancels the durable schedules and clears every handle, keeping enabled = true; enable recreates them', async () => {
  const { inst, on, off, ref } = await installWithSchedules();
  const oldJob = (await schedule(on)).job_id;
  assert.deepEqual(await setInstallEnabled(db.pool, jobs, ref, false), { success: true, schedules: 2 });
  assert.deepEqual(await schedule(on), { enabled: true, job_id: null, runner_schedule_id: null });
  assert.equal(await dispatched(on), 0);
  assert.equal((await db.pool.query(`SELECT status FROM jobs WHERE job_id = $1`, [oldJob])).rows[0].status, 'cancelled');
  const install = await db.pool.query(`SELECT is_enabled, status FROM tenant_extension_install WHERE id = $1`, [inst.installId]);
  assert.deepEqual(install.rows[0], { is_enabled: false, status: 'enabled' });

  assert.equal((await setInstallEnabled(db.pool, jobs, ref, true)).success, true);
  const back = await schedule(on);
  assert.ok(back.job_id && back.job_id !== oldJob);
  assert.equal(await dispatched(on), 1);
  assert.deepEqual(await schedule(off), { enabled: false, job_id: null, runner_schedule_id: null }, 'a disabled schedule stays without a handle');
});

test('disable: a job engine failure changes nothing', async () => {
  const { ref } = await installWithSchedules();
  const before = await snapshotSchedulerState(db.pool);
  await assert.rejects(setInstallEnabled(db.pool, failingJobEngine(jobs, { failOn: 'cancel' }), ref, false));
  assert.deepEqual(await snapshotSchedulerState(db.pool), before);
});

test('uninstall: cancels, deletes the schedules and then the install; registry and version remain', async () => {
  const { inst, on, ref } = await installWithSchedules();
  assert.deepEqual(await uninstallExtension(db.pool, jobs, ref), { success: true, schedules: 2 });
  assert.equal((await db.pool.query(`SELECT 1 FROM tenant_extension_schedule WHERE install_id = $1`, [inst.installId])).rowCount, 0);
  assert.equal((await db.pool.query(`SELECT 1 FROM tenant_extension_install WHERE id = $1`, [inst.installId])).rowCount, 0);
  assert.equal(await dispatched(on), 0);
  assert.equal((await db.pool.query(`SELECT 1 FROM extension_registry WHERE id = $1`, [inst.registryId])).rowCount, 1);
  assert.equal((await db.pool.query(`SELECT 1 FROM extension_version WHERE id = $1`, [inst.versionId])).rowCount, 1);
  assert.deepEqual(await uninstallExtension(db.pool, jobs, ref), { success: false, message: 'Install not found' });
});
