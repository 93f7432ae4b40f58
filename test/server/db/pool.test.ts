/** createPool: a connection lost at any point fails a query, never the process. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { createPool } from '../../../src/server/db/database.js';
import { createTestDatabase } from '../../support/db.js';

test('createPool: a connection that drops as it is handed to a waiting connect() fails that caller\'s next query, not the process', async (t) => {
  const db = await createTestDatabase();
  const pool = createPool(db.url, 1);
  try {
    const holder = await pool.connect();
    const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    if (!existsSync(`/proc/${pid}`)) {
      t.skip('the test server is not on this machine');
      holder.release();
      return;
    }
    const waiting = pool.connect(); // the pool's one client is taken: queued
    // The server ends the session 10 ms after this answer (as a restarting server ends every session).
    // The release is synchronous with the answer, so the pool hands the client over in that same read.
    holder.query(`SET idle_session_timeout = '10ms'`, () => holder.release());
    // Hold the event loop until the backend has exited: its answer and its goodbye are then both
    // waiting on the socket, and are parsed in one read, before the new owner can listen.
    for (let i = 0; existsSync(`/proc/${pid}`) && i < 5e6; i++);
    const client = await waiting;
    await assert.rejects(client.query('SELECT 1'), /not queryable|terminat/);
    client.release(true);
    assert.deepEqual((await pool.query('SELECT 1 AS x')).rows, [{ x: 1 }], 'the pool connects again');
  } finally {
    await pool.end();
    await db.drop();
  }
});
