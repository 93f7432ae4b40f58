/** `POST /api/internal/ext-invoicing/install/{installId}` over real HTTP, as production answers
 * (docs/production-contract.md#invoicing), and the invoices written, read back at /api/admin/invoices. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startPlatform, type Platform } from '../../../src/platform.js';
import { createManualClock } from '../../../src/server/execution/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InstalledExtension } from '../../support/fixtures.js';
import { callInternalRoute, type InternalCallOptions } from '../../support/internal-route.js';
import { PLATFORM_DATA } from '../../support/platform-data.js';

const TOKEN = 'invoicing-test-token';
const { CLIENT_ID: C, SERVICE_ID: S, UNKNOWN_ID: UNKNOWN, ONE_CLIENT_ONE_SERVICE: DATA } = PLATFORM_DATA;

let db: TestDatabase;
let platform: Platform;
let dataDir: string;
let granted: InstalledExtension;
let ungranted: InstalledExtension;

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-invoicing-'));
  platform = await startPlatform({
    databaseUrl: db.url, dataDir, port: 0, runnerToken: TOKEN, logger: silentLogger, platformData: DATA,
    execution: { enabled: false, clock: createManualClock('2026-07-04T23:30:00Z') },
  });
  granted = await insertInstall(db.pool, { tenantId: 'tenant-inv' });
  ungranted = await insertInstall(db.pool);
  await db.pool.query(`UPDATE tenant_extension_install SET granted_caps = '["cap:invoice.manual.create"]' WHERE id = $1`, [granted.installId]);
});
after(async () => {
  await platform?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (installId: string, body: unknown, o?: InternalCallOptions) =>
  callInternalRoute(platform.url, '/api/internal/ext-invoicing/install/', TOKEN, installId, body, o);
const invoice = (o: Record<string, unknown> = {}) => ({ operation: 'createManualInvoice', clientId: C, items: [{ serviceId: S, quantity: 2, description: 'Remote support', rate: 12000 }], ...o });
const count = async () => Number((await db.pool.query(`SELECT count(*) FROM invoices`)).rows[0].count);

describe('ext-invoicing: refusals', () => {
  test('auth 401; an unsupported operation or a body that is not JSON → 400 Unsupported operation; never 500', async () => {
    assert.deepEqual(await call(granted.installId, invoice(), { token: 'nope' }), { status: 401, body: { error: 'Invalid runner token', code: 'UNAUTHORIZED' } });
    for (const raw of ['', 'not json', '{', 'null', '[]', '{"operation":"createInvoice"}']) {
      assert.deepEqual(await call(granted.installId, undefined, { raw }), { status: 400, body: { error: 'Unsupported operation' } }, raw);
    }
  });

  test('unknown install 404, no capability 403, invalid input 400 with field errors; nothing written', async () => {
    assert.deepEqual(await call('00000000-0000-4000-8000-000000000000', invoice()), { status: 404, body: { error: 'Install not found' } });
    assert.deepEqual(await call('nope', invoice()), { status: 404, body: { error: 'Install not found' } });
    assert.deepEqual(await call(ungranted.installId, invoice()), { status: 403, body: { success: false, error: 'Permission denied: cap:invoice.manual.create not granted' } });
    const bad = await call(granted.installId, invoice({ clientId: 'x', items: [{ serviceId: S, quantity: -1, description: '', rate: 1 }], dueDate: 'soon' }));
    assert.deepEqual(bad, {
      status: 400,
      body: { success: false, error: 'Validation error', fieldErrors: { clientId: 'Invalid UUID', 'items[0].description': 'Required', 'items[0].quantity': 'Must be > 0', dueDate: 'Invalid date (expected YYYY-MM-DD)' } },
    });
    assert.deepEqual(await call(granted.installId, invoice({ clientId: UNKNOWN })), { status: 400, body: { success: false, error: 'Client not found', fieldErrors: { clientId: 'Client not found' } } });
    assert.deepEqual(await call(granted.installId, invoice({ items: [{ serviceId: UNKNOWN, quantity: 1, description: 'x', rate: 1 }] })), {
      status: 400,
      body: { success: false, error: 'Service not found', fieldErrors: { serviceId: 'Service not found' } },
    });
    const impossible = await call(granted.installId, invoice({ invoiceDate: '2026-02-30' }));
    assert.equal(impossible.status, 400);
    assert.equal(impossible.body.success, false);
    assert.equal(await count(), 0);
  });
});

describe('ext-invoicing: draft invoices', () => {
  test('201 with production\'s body; numbers follow per tenant; dates default to the platform clock\'s day; read back', async () => {
    const a = await call(granted.installId, invoice({ poNumber: 'PO-7' }));
    assert.equal(a.status, 201);
    assert.deepEqual(a.body, { success: true, invoice: { invoiceId: a.body.invoice.invoiceId, invoiceNumber: 'INV-000001', status: 'draft', subtotal: 24000, tax: 0, total: 24000 } });
    const b = await call(granted.installId, invoice({ invoiceDate: '2026-08-01', items: [{ serviceId: S, quantity: 1, description: 'x', rate: 1000 }, { serviceId: S, quantity: 1, description: 'loyalty', rate: 10, isDiscount: true, discountType: 'percentage' }] }));
    assert.equal(b.body.invoice.invoiceNumber, 'INV-000002');
    assert.equal(b.body.invoice.total, 900);

    const res = await request(`${platform.url}/api/admin/invoices?tenant=tenant-inv`);
    const listed = ((await res.body.json()) as any).invoices;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(listed.map((i: any) => [i.invoiceNumber, i.invoiceDate, i.dueDate, i.poNumber, i.clientId, i.installId]), [
      ['INV-000002', '2026-08-01', '2026-08-01', null, C, granted.installId],
      ['INV-000001', '2026-07-04', '2026-07-04', 'PO-7', C, granted.installId],
    ]);
    assert.deepEqual(listed[0].items.map((i: any) => [i.description, i.quantity, i.rate, i.netAmount, i.isDiscount, i.discountType]), [
      ['x', 1, 1000, 1000, false, null],
      ['loyalty', 1, 10, -100, true, 'percentage'],
    ]);
    const other = await request(`${platform.url}/api/admin/invoices?tenant=someone-else`);
    assert.deepEqual(await other.body.json(), { invoices: [] });
    const badLimit = await request(`${platform.url}/api/admin/invoices?limit=0`);
    assert.equal(badLimit.statusCode, 400);
    await badLimit.body.dump();
  });

  test('20 concurrent invoices of one tenant get 20 distinct consecutive numbers', async () => {
    const before = await count();
    const replies = await Promise.all(Array.from({ length: 20 }, () => call(granted.installId, invoice())));
    assert.ok(replies.every((r) => r.status === 201));
    const numbers = replies.map((r) => Number(r.body.invoice.invoiceNumber.slice(4))).sort((x, y) => x - y);
    assert.deepEqual(numbers, Array.from({ length: 20 }, (_, i) => before + 1 + i));
  });
});
