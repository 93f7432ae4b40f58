/**
 * docs/differences.md#no-orphans: a create, update, delete or reschedule that fails at any step leaves the schedule rows,
 * the jobs table and the install exactly as they were (every table is compared). Job-engine failures
 * of update and delete come from a wrapper; a create makes its job inside its one statement, so its
 * job-engine failures, like every database failure, are real (a trigger that raises on the chosen
 * statement).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createSchedulerService, type InstallContext, type SchedulerService } from '../../../src/server/scheduler/service.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { failingJobEngine, type FailureInjection } from '../../support/failing-job-engine.js';
import { insertInstall, snapshotSchedulerState } from '../../support/fixtures.js';

let db: TestDatabase;
let good: SchedulerService;
before(async () => {
  db = await createTestDatabase();
  good = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine() });
  await db.pool.query(`CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'injected database failure'; END $$`);
});
after(async () => db.drop());
const FAILABLE_TABLES = ['tenant_extension_schedule', 'tenant_extension_install', 'jobs', 'extension_schedule_dispatch', 'extension_schedule_run_lock'] as const;
afterEach(async () => {
  for (const table of FAILABLE_TABLES) await db.pool.query(`DROP TRIGGER IF EXISTS fail_step ON ${table}`);
});

const failing = (injection: FailureInjection) =>
  createSchedulerService({ pool: db.pool, jobs: failingJobEngine(createPostgresJobEngine(), injection) });

async function failDb(table: (typeof FAILABLE_TABLES)[number], event: 'INSERT' | 'UPDATE' | 'DELETE') {
  await db.pool.query(`CREATE TRIGGER fail_step BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION injected_failure()`);
}

async function withSchedule(opts: { enabled?: boolean } = {}): Promise<{ ctx: InstallContext; id: string }> {
  const ctx = await insertInstall(db.pool);
  const r = await good.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'n', payload: { a: 1 }, enabled: opts.enabled });
  assert.equal(r.success, true);
  return { ctx, id: r.scheduleId! };
}

/** Runs the failing call and asserts it failed and changed nothing. */
async function assertNoChange(call: () => Promise<{ success: boolean; error?: string }>, expectError?: RegExp) {
  const before = await snapshotSchedulerState(db.pool);
  let outcome: { success: boolean; error?: string } | Error;
  try {
    outcome = await call();
  } catch (err) {
    outcome = err as Error;
  }
  if (outcome instanceof Error) assert.ok(!expectError, `expected a result, got a throw: ${outcome.message}`);
  else {
    assert.equal(outcome.success, false, 'the call must fail');
    if (expectError) assert.match(outcome.error ?? '', expectError);
  }
  assert.deepEqual(await snapshotSchedulerState(db.pool), before);
}

describe('create', () => {
  test('create: the job engine fails to write its job → no row, no job', async () => {
    const ctx = await insertInstall(db.pool);
    await failDb('jobs', 'INSERT');
    await assertNoChange(() => good.create(ctx, { endpoint: '/status', cron: '0 * * * *' }));
  });

  test('create: schedule insert fails after the job was scheduled → the job is gone too', async () => {
    const ctx = await insertInstall(db.pool);
    await failDb('tenant_extension_schedule', 'INSERT');
    await assertNoChange(() => good.create(ctx, { endpoint: '/status', cron: '0 * * * *' }));
  });

  test('create: install touch fails after insert → no row, no job', async () => {
    const ctx = await insertInstall(db.pool);
    await failDb('tenant_extension_install', 'UPDATE');
    await assertNoChange(() => good.create(ctx, { endpoint: '/status', cron: '0 * * * *' }));
  });

  // The create is one statement (install touch, job, dispatch and run-lock rows, schedule row):
  // every write in it fails once.
  for (const [table, event] of [
    ['tenant_extension_install', 'UPDATE'],
    ['jobs', 'INSERT'],
    ['extension_schedule_dispatch', 'INSERT'],
    ['extension_schedule_run_lock', 'INSERT'],
    ['tenant_extension_schedule', 'INSERT'],
  ] as const) {
    test(`create: ${table} ${event} fails → nothing written`, async () => {
      const ctx = await insertInstall(db.pool);
      await failDb(table, event);
      await assertNoChange(() => good.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'x', payload: { a: 1 } }));
    });
  }
  test(`create: succeeds with the job, dispatch and run-lock rows`, async () => {
    const ctx = await insertInstall(db.pool);
    const r = await good.create(ctx, { endpoint: 'GET /status', cron: '0 * * * *', timezone: 'Europe/Paris' });
    assert.equal(r.success, true);
    const row = (await db.pool.query(`SELECT job_id, runner_schedule_id FROM tenant_extension_schedule WHERE id = $1`, [r.scheduleId])).rows[0];
    assert.equal(row.runner_schedule_id, `extsched:${ctx.installId}:${r.scheduleId}`);
    const job = (await db.pool.query(`SELECT status, external_id, metadata FROM jobs WHERE job_id = $1`, [row.job_id])).rows[0];
    assert.equal(job.status, 'scheduled');
    assert.equal(job.metadata.trigger, 'host_api');
    assert.equal(job.metadata.timezone, 'Europe/Paris');
    const dispatch = (await db.pool.query(`SELECT job_id, timezone, next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [r.scheduleId])).rows[0];
    assert.equal(dispatch.job_id, row.job_id);
    assert.ok(dispatch.next_run_at > new Date(), 'the next occurrence is in the future');
    assert.equal((await db.pool.query(`SELECT 1 FROM extension_schedule_run_lock WHERE schedule_id = $1`, [r.scheduleId])).rowCount, 1);
  });
});

describe('update and reschedule', () => {
  test('reschedule: cancel refused → production message, nothing changed', async () => {
    const { ctx, id } = await withSchedule();
    await assertNoChange(
      () => failing({ failOn: 'cancel', mode: 'refuse' }).update(ctx, id, { cron: '5 * * * *' }),
      /^Failed to cancel existing schedule \(cannot reschedule\)$/,
    );
  });

  test('reschedule: cancel throws → nothing changed', async () => {
    const { ctx, id } = await withSchedule();
    await assertNoChange(() => failing({ failOn: 'cancel' }).update(ctx, id, { cron: '5 * * * *' }));
  });

  // Production's host-API update has already cancelled the old job here and keeps the stale job_id.
  test('reschedule: scheduling the new job fails after the old one was cancelled → the old job is still active', async () => {
    const { ctx, id } = await withSchedule();
    await assertNoChange(() => failing({ failOn: 'schedule' }).update(ctx, id, { cron: '5 * * * *', timezone: 'Europe/Paris' }));
    const row = (await db.pool.query(`SELECT job_id FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
    assert.equal((await db.pool.query(`SELECT status FROM jobs WHERE job_id = $1`, [row.job_id])).rows[0].status, 'scheduled');
  });

  test('reschedule: row update fails after cancel + schedule → nothing changed', async () => {
    const { ctx, id } = await withSchedule();
    await failDb('tenant_extension_schedule', 'UPDATE');
    await assertNoChange(() => good.update(ctx, id, { cron: '5 * * * *' }));
  });

  test('reschedule: install touch fails last → nothing changed', async () => {
    const { ctx, id } = await withSchedule();
    await failDb('tenant_extension_install', 'UPDATE');
    await assertNoChange(() => good.update(ctx, id, { cron: '5 * * * *', name: 'other', payload: null }));
  });

  test('update: disabling with the cancel refused → "(cannot disable)", nothing changed', async () => {
    const { ctx, id } = await withSchedule();
    await assertNoChange(
      () => failing({ failOn: 'cancel', mode: 'refuse' }).update(ctx, id, { enabled: false }),
      /^Failed to cancel existing schedule \(cannot disable\)$/,
    );
  });

  test('update: enabling with the job engine failing → still disabled, no job', async () => {
    const { ctx, id } = await withSchedule({ enabled: false });
    await assertNoChange(() => failing({ failOn: 'schedule' }).update(ctx, id, { enabled: true }));
  });

  test('update: a non-rescheduling update whose row write fails → nothing changed', async () => {
    const { ctx, id } = await withSchedule();
    await failDb('tenant_extension_schedule', 'UPDATE');
    await assertNoChange(() => good.update(ctx, id, { name: 'renamed' }));
  });
});

describe('delete', () => {
  test('delete: cancel refused → row kept, error mentions cancel', async () => {
    const { ctx, id } = await withSchedule();
    await assertNoChange(() => failing({ failOn: 'cancel', mode: 'refuse' }).delete(ctx, id), /^Failed to cancel runner schedule \(not deleted\)$/);
  });

  test('delete: cancel throws → row kept, error mentions cancel', async () => {
    const { ctx, id } = await withSchedule();
    await assertNoChange(() => failing({ failOn: 'cancel' }).delete(ctx, id), /cancel/);
  });

  test('delete: row delete fails after the cancel → the job is still active', async () => {
    const { ctx, id } = await withSchedule();
    await failDb('tenant_extension_schedule', 'DELETE');
    await assertNoChange(() => good.delete(ctx, id));
  });

  test('delete: install touch fails last → row and job kept', async () => {
    const { ctx, id } = await withSchedule();
    await failDb('tenant_extension_install', 'UPDATE');
    await assertNoChange(() => good.delete(ctx, id));
  });
});

test('failingJobEngine: "after" lets the first calls through', async () => {
  const { ctx, id } = await withSchedule();
  const svc = failing({ failOn: 'schedule', after: 1 });
  assert.equal((await svc.update(ctx, id, { cron: '5 * * * *' })).success, true);
  await assert.rejects(svc.update(ctx, id, { cron: '10 * * * *' }), /injected failure/);
});
