/** `POST /api/internal/ext-{clients,services}/install/{installId}` over real HTTP, as production answers
 * (docs/production-contract.md#clients, #services): auth, operation, install, capability, input. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPlatform, type Platform } from '../../../src/platform.js';
import { parsePlatformData } from '../../../src/server/platform-data/platform-data.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InstalledExtension } from '../../support/fixtures.js';
import { callInternalRoute, type InternalCallOptions } from '../../support/internal-route.js';

const TOKEN = 'platform-api-test-token';
const C1 = '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e01';
const S1 = '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c01';
const DATA = parsePlatformData({
  clients: [
    { clientId: C1, clientName: 'Acme', billingEmail: 'billing@acme.example' },
    { clientId: '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e02', clientName: 'Old Co', isInactive: true },
  ],
  services: [{ serviceId: S1, serviceName: 'Support', itemKind: 'service', billingMethod: 'hourly', defaultRate: 120, unitOfMeasure: 'hour', isActive: true, sku: 'RS' }],
});

let db: TestDatabase;
let platform: Platform;
let empty: Platform;
let dataDir: string;
let granted: InstalledExtension;
let ungranted: InstalledExtension;
let disabled: InstalledExtension;

async function grant(inst: InstalledExtension, caps: string[]) {
  await db.pool.query(`UPDATE tenant_extension_install SET granted_caps = $2::jsonb WHERE id = $1`, [inst.installId, JSON.stringify(caps)]);
}

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-platform-api-'));
  platform = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: TOKEN, logger: silentLogger, platformData: DATA });
  empty = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: TOKEN, logger: silentLogger });
  granted = await insertInstall(db.pool);
  ungranted = await insertInstall(db.pool);
  disabled = await insertInstall(db.pool, { enabled: false });
  await grant(granted, ['cap:client.read', 'cap:service.read']);
  await grant(disabled, ['cap:client.read', 'cap:service.read']);
});
after(async () => {
  await platform?.stop();
  await empty?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (api: 'clients' | 'services', installId: string, body: unknown, o: InternalCallOptions & { on?: Platform } = {}) =>
  callInternalRoute((o.on ?? platform).url, `/api/internal/ext-${api}/install/`, TOKEN, installId, body, o);

for (const api of ['clients', 'services'] as const) {
  const cap = api === 'clients' ? 'cap:client.read' : 'cap:service.read';
  const idKey = api === 'clients' ? 'clientId' : 'serviceId';
  describe(`ext-${api}: refusals in production's order and bodies`, () => {
    test('missing or wrong x-runner-auth → 401', async () => {
      for (const token of [null, 'wrong', `${TOKEN}x`]) {
        const r = await call(api, granted.installId, { operation: 'list' }, { token });
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { error: 'Invalid runner token', code: 'UNAUTHORIZED' });
      }
    });

    test('malformed bodies → 400 INVALID_INPUT, never 500', async () => {
      for (const raw of ['', 'not json', '{"operation":', 'null', '[]', '"list"', '{}', '{"operation":"delete"}', '{"operation":7}']) {
        const r = await call(api, granted.installId, undefined, { raw });
        assert.equal(r.status, 400, raw);
        assert.equal(r.body.error, 'Invalid request payload', raw);
        assert.equal(r.body.code, 'INVALID_INPUT', raw);
        assert.ok(r.body.details && typeof r.body.details === 'object', raw);
      }
      const bad = [
        { operation: 'list', input: { page: 0 } },
        { operation: 'list', input: { page: 10_001 } },
        { operation: 'list', input: { pageSize: 101 } },
        { operation: 'list', input: { page: 1.5 } },
        { operation: 'list', input: { search: 'x'.repeat(201) } },
        { operation: 'list', input: 'x' },
        { operation: 'get', input: { [idKey]: 'not-a-uuid' } },
        { operation: 'get' },
        { operation: 'list', user: { userId: '', userType: 'internal' } },
        { operation: 'list', user: 'someone' },
      ];
      for (const body of bad) {
        const r = await call(api, granted.installId, body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.code, 'INVALID_INPUT', JSON.stringify(body));
      }
      if (api === 'services') {
        const r = await call(api, granted.installId, { operation: 'list', input: { itemKind: 'thing' } });
        assert.equal(r.status, 400);
        assert.ok(r.body.details.fieldErrors.itemKind);
      }
    });

    test('unknown, malformed or disabled install → 404; no capability → 403', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', disabled.installId]) {
        const r = await call(api, id, { operation: 'list' });
        assert.equal(r.status, 404, id);
        assert.deepEqual(r.body, { error: 'Install not found', code: 'NOT_FOUND' });
      }
      const r = await call(api, ungranted.installId, { operation: 'list' });
      assert.equal(r.status, 403);
      assert.deepEqual(r.body, { error: `Permission denied: ${cap} not granted`, code: 'NOT_ALLOWED' });
      // The operation is checked before the install (production's order).
      assert.equal((await call(api, 'not-a-uuid', { operation: 'nope' })).status, 400);
    });

    test('without a platform-data file: an empty page and a null item, never an error', async () => {
      const list = await call(api, granted.installId, { operation: 'list', input: { page: 2, pageSize: 10 } }, { on: empty });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, { items: [], totalCount: 0, page: 2, pageSize: 10 });
      const get = await call(api, granted.installId, { operation: 'get', input: { [idKey]: api === 'clients' ? C1 : S1 } }, { on: empty });
      assert.deepEqual({ status: get.status, body: get.body }, { status: 200, body: { item: null } });
    });
  });
}

describe('ext-clients / ext-services: answers from the platform data', () => {
  test('list with production\'s defaults, filters and a user; get by id', async () => {
    const list = await call('clients', granted.installId, { operation: 'list', input: {}, user: { userId: 'u1', userType: 'internal' } });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, {
      items: [{ clientId: C1, clientName: 'Acme', clientType: null, isInactive: false, defaultCurrencyCode: null, accountManagerId: null, accountManagerName: null, billingEmail: 'billing@acme.example' }],
      totalCount: 1, page: 1, pageSize: 25,
    });
    const all = await call('clients', granted.installId, { operation: 'list', input: { includeInactive: true, search: 'o' } });
    assert.deepEqual(all.body.items.map((c: any) => c.clientName), ['Old Co']);
    const get = await call('clients', granted.installId, { operation: 'get', input: { clientId: C1 } });
    assert.equal(get.body.item.clientName, 'Acme');
    const svc = await call('services', granted.installId, { operation: 'list', input: { billingMethod: 'hourly', search: 'rs' } });
    assert.deepEqual(svc.body.items.map((s: any) => s.serviceId), [S1]);
    const none = await call('services', granted.installId, { operation: 'list', input: { billingMethod: 'usage' } });
    assert.deepEqual(none.body, { items: [], totalCount: 0, page: 1, pageSize: 25 });
    const sget = await call('services', granted.installId, { operation: 'get', input: { serviceId: S1 } });
    assert.equal(sget.body.item.unitCode, null);
  });
});
