/** A host call whose execution was stopped (its signal fired) commits nothing (issue 5: never half-applied). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSchedulerService, type InstallContext } from '../../../src/server/scheduler/service.js';
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
