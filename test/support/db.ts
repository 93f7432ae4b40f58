import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, migrate } from '../../src/server/db/database.js';

/** The server the test runner started (scripts/run-tests.js) or DATABASE_URL. */
export function testServerUrl(): string {
  const url = process.env.ALGA_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    throw new Error('No test database: run the tests with `npm test` (it starts an embedded PostgreSQL), or set DATABASE_URL.');
  }
  return url;
}

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own, so a test sees only its own rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(server);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = createPool(url, 20);
  await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
