/**
 * A transaction whose signal fires while its statement is still running (waiting on a lock here)
 * ends at the signal: the statement is cancelled and rolled back while the lock is still held, not
 * when the statement would have finished. Asserted on the server's state, never on time.
 */
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { createPool, TransactionCancelledError, withOneStatementTransaction, withTransaction } from '../../../src/server/db/database.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

/** Only a hang guard: before the fix a cancelled write waited for the lock as long as it was held. */
const HANG_GUARD = { timeout: 60_000 };

/** `p`, or 'never ended' when the test's hang guard fires (so the test fails and cleans up). */
function orHang<T>(p: Promise<T>, t: { signal: AbortSignal }): Promise<T | 'never ended'> {
  return Promise.race([p, new Promise<'never ended'>((r) => t.signal.addEventListener('abort', () => r('never ended'), { once: true }))]);
}

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await db.pool.query(`CREATE TABLE cancel_probe (id int PRIMARY KEY, v text)`);
  await db.pool.query(`INSERT INTO cancel_probe VALUES (1, 'before')`);
});
after(async () => db?.drop());

/** Backends of this database waiting on a lock for a statement on cancel_probe. */
async function waiting(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%cancel_probe%' AND pid <> pg_backend_pid()`,
  );
  return rows[0]!.n;
}

const ways = [
  ['withTransaction', (pool: typeof db.pool, s: AbortSignal) => withTransaction(pool, async (c) => c.query(`UPDATE cancel_probe SET v = 'written' WHERE id = 1`), s)],
  ['withOneStatementTransaction', (pool: typeof db.pool, s: AbortSignal) => withOneStatementTransaction(pool, `UPDATE cancel_probe SET v = 'written' WHERE id = 1`, s)],
] as const;

for (const [name, write] of ways) {
  test(`${name}: a signal fired mid-statement cancels the statement while the lock is still held; nothing is written`, HANG_GUARD, async (t) => {
    const pool = createPool(db.url, 2);
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM cancel_probe WHERE id = 1 FOR UPDATE');
      const controller = new AbortController();
      const pending = write(pool, controller.signal).then(
        () => 'committed',
        (e: unknown) => e,
      );
      while ((await waiting()) === 0) await turn();
      controller.abort();
      // Still holding the row: only a cancelled statement can end the write now.
      const outcome = await orHang(pending, t);
      assert.ok(outcome instanceof TransactionCancelledError, String(outcome));
      assert.equal(await waiting(), 0, 'no statement still waits on the row');
    } finally {
      await holder.query('COMMIT').catch(() => {});
      holder.release();
    }
    try {
      const { rows } = await db.pool.query(`SELECT v FROM cancel_probe WHERE id = 1`);
      assert.deepEqual(rows, [{ v: 'before' }]);
      // The pool still serves (the cancelled connection was closed, not handed out again).
      assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await pool.end();
    }
  });
}

test('a signal fired while waiting for a free connection ends the wait: no transaction starts', HANG_GUARD, async (t) => {
  const pool = createPool(db.url, 1);
  const busy = await pool.connect();
  try {
    const controller = new AbortController();
    const pending = withTransaction(pool, async (c) => c.query(`UPDATE cancel_probe SET v = 'written' WHERE id = 1`), controller.signal).then(
      () => 'committed',
      (e: unknown) => e,
    );
    while (pool.waitingCount === 0) await turn();
    controller.abort();
    const outcome = await orHang(pending, t);
    assert.ok(outcome instanceof TransactionCancelledError, String(outcome));
  } finally {
    busy.release();
  }
  const { rows } = await db.pool.query(`SELECT v FROM cancel_probe WHERE id = 1`);
  assert.deepEqual(rows, [{ v: 'before' }]);
  await pool.end();
});
