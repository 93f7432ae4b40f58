/** The two reads `dev` makes on a reload (moved out of src/dev/session.ts next to their tables). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { otherInstallTenants } from '../../../src/server/registry/registry.js';
import { scheduleNames } from '../../../src/server/scheduler/schedule-store.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, insertSchedules } from '../../support/fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db?.drop());

test('otherInstallTenants: the tenants with an install of the extension, but the one given, in order', async () => {
  const inst = await insertInstall(db.pool, { tenantId: 'tenant-b' });
  for (const tenant of ['tenant-c', 'tenant-a']) {
    await db.pool.query(`INSERT INTO tenant_extension_install (tenant_id, registry_id, version_id, is_enabled, status) VALUES ($1, $2, $3, true, 'enabled')`, [tenant, inst.registryId, inst.versionId]);
  }
  await insertInstall(db.pool, { tenantId: 'tenant-d' }); // another extension
  assert.deepEqual(await otherInstallTenants(db.pool, inst.registryId, 'tenant-b'), ['tenant-a', 'tenant-c']);
  assert.deepEqual(await otherInstallTenants(db.pool, inst.registryId, 'tenant-a'), ['tenant-b', 'tenant-c']);
});

test('scheduleNames: names by id, "" for a schedule without one, unknown ids left out', async () => {
  const inst = await insertInstall(db.pool);
  await insertSchedules(db.pool, inst, 2);
  const ids = (await db.pool.query<{ id: string }>(`SELECT id FROM tenant_extension_schedule WHERE install_id = $1 ORDER BY id`, [inst.installId])).rows.map((r) => r.id);
  await db.pool.query(`UPDATE tenant_extension_schedule SET name = 'Heartbeat' WHERE id = $1`, [ids[0]]);
  const unknown = randomUUID();
  assert.deepEqual(await scheduleNames(db.pool, [...ids, unknown]), new Map([[ids[0]!, 'Heartbeat'], [ids[1]!, '']]));
});
