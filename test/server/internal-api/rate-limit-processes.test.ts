import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./mutator-process.js', import.meta.url));

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

// docs/differences.md#shared-rate-limit: production keeps the window in each server process's memory, so two processes
// would let 20 through.
test('rate limit: two processes making 20 creates for one install within a minute → exactly 10 succeed', async () => {
  const ctx = await insertInstall(db.pool);
  const startAt = String(Date.now() + 1500);
  const child = (offset: number) =>
    run(process.execPath, [script], {
      env: { ...process.env, DATABASE_URL: db.url, INSTALL_ID: ctx.installId, COUNT: '10', START_AT: startAt, OFFSET: String(offset) },
    });
  const [a, b] = await Promise.all([child(0), child(30)]);
  const statuses = [...JSON.parse(a.stdout), ...JSON.parse(b.stdout)] as number[];
  assert.equal(statuses.length, 20);
  assert.equal(statuses.filter((s) => s === 201).length, 10, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 429).length, 10);
  const rows = await db.pool.query(`SELECT count(*)::int AS n FROM tenant_extension_schedule WHERE install_id = $1`, [ctx.installId]);
  assert.equal(rows.rows[0].n, 10);
});
