/** A host call whose execution was stopped (its signal fired) commits nothing (issue 5: never half-applied). */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { createSchedulerService, type InstallContext, type ScheduleMutationResult } from '../../../src/server/scheduler/service.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, snapshotSchedulerState } from '../../support/fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db?.drop());

function aborted(): AbortSignal {
  const c = new AbortController();
  c.abort();
  return c.signal;
}

test('create/update/delete: a fired signal rolls the transaction back instead of committing', async () => {
  const service = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine(), logger: silentLogger });
  const inst = await insertInstall(db.pool);
  const ctx: InstallContext = inst;
  const made = await service.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'kept' });
  assert.equal(made.success, true);
  const before = await snapshotSchedulerState(db.pool);

  const create = await service.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'never' }, aborted());
  const update = await service.update(ctx, made.scheduleId!, { cron: '30 * * * *', name: 'renamed' }, aborted());
  const del = await service.delete(ctx, made.scheduleId!, aborted());
  for (const r of [create, update, del]) {
    assert.equal(r.success, false);
    assert.match(r.error!, /^cancelled/);
  }
  assert.deepEqual(await snapshotSchedulerState(db.pool), before);
});

/** Until a backend of this database waits for a lock (the mutation is inside its transaction). */
async function untilBlockedOnLock(): Promise<void> {
  for (;;) {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n > 0) return;
    await sleep(10);
  }
}

test('create/update/delete: a signal fired mid-transaction (its statements already sent) rolls it back at commit', async () => {
  const service = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine(), logger: silentLogger });
  const ctx: InstallContext = await insertInstall(db.pool);
  const made = await service.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'kept' });
  assert.equal(made.success, true);
  const calls: [string, (signal: AbortSignal) => Promise<ScheduleMutationResult>][] = [
    ['create', (s) => service.create(ctx, { endpoint: '/status', cron: '0 * * * *', name: 'never' }, s)],
    ['update', (s) => service.update(ctx, made.scheduleId!, { cron: '30 * * * *', name: 'renamed' }, s)],
    ['delete', (s) => service.delete(ctx, made.scheduleId!, s)],
  ];
  for (const [name, call] of calls) {
    const before = await snapshotSchedulerState(db.pool);
    // Every mutation locks its install row first: hold that lock so the call waits inside its
    // transaction, fire the signal there, then let it run to the end of its statements.
    const holder = await db.pool.connect();
    let result: ScheduleMutationResult;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM tenant_extension_install WHERE id = $1 FOR UPDATE', [ctx.installId]);
      const controller = new AbortController();
      const pending = call(controller.signal);
      await untilBlockedOnLock();
      controller.abort();
      await holder.query('COMMIT');
      result = await pending;
    } finally {
      holder.release();
    }
    assert.equal(result.success, false, `${name}: ${JSON.stringify(result)}`);
    assert.match(result.error!, /^cancelled/, name);
    assert.deepEqual(await snapshotSchedulerState(db.pool), before, `${name} left nothing behind`);
  }
});
