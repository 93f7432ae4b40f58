import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { migrate } from '../../src/server/db/database.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

test('migrate: creates production tables and the schedule indexes (production-contract.md#tables)', async () => {
  const tables = (
    await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    )
  ).rows.map((r) => r.table_name);
  for (const t of ['extension_registry', 'extension_version', 'extension_bundle', 'extension_api_endpoint', 'tenant_extension_install', 'tenant_extension_schedule']) {
    assert.ok(tables.includes(t), `missing table ${t}`);
  }
  const idx = (
    await db.pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tenant_extension_schedule'`,
    )
  ).rows;
  const defs = idx.map((r) => r.indexdef);
  assert.ok(defs.some((d) => /\(tenant_id\)$/.test(d)));
  assert.ok(defs.some((d) => /\(tenant_id, install_id\)$/.test(d)));
  assert.ok(defs.some((d) => /\(tenant_id, endpoint_id\)$/.test(d)));
  assert.ok(idx.some((r) => r.indexname === 'tenant_extension_schedule_install_name_uniq' && /WHERE \(name IS NOT NULL\)/.test(r.indexdef)));
});

test('migrate: a second run applies nothing', async () => {
  assert.deepEqual(await migrate(db.pool), []);
});

test('migrate: duplicate (version_id, method, path) endpoint is rejected (production-contract.md#tables)', async () => {
  const v = '00000000-0000-4000-8000-000000000001';
  await db.pool.query(`INSERT INTO extension_api_endpoint (version_id, method, path, handler) VALUES ($1,'GET','/a','h')`, [v]);
  await assert.rejects(
    db.pool.query(`INSERT INTO extension_api_endpoint (version_id, method, path, handler) VALUES ($1,'GET','/a','h2')`, [v]),
    (e: { code?: string }) => e.code === '23505',
  );
});

test('migrate: the schedule and endpoint tables declare no ON DELETE CASCADE (production-contract.md#tables)', async () => {
  const r = await db.pool.query(
    `SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('tenant_extension_schedule'::regclass, 'extension_api_endpoint'::regclass)`,
  );
  assert.equal(r.rowCount, 0);
});
