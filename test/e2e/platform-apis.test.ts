/**
 * clients and services through a component (the probe), over the gateway, in both shapes: in-process
 * (the runner calls the routes' core) and split (the runner is its own process and calls production's
 * internal routes over HTTP), against the platform-data file; and an empty platform without one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadPlatformData } from '../../src/server/platform-data/platform-data.js';
import { projectRoot } from '../support/components.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const ACME = '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e01';
const DOCK = '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c04';
const MISSING = '00000000-0000-4000-8000-000000000000';
const UNKNOWN_CLIENT = '9b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e09';

for (const shape of ['in-process', 'split'] as const) describe(`clients and services, ${shape}`, () => {
  let tp: TestPlatform;
  let empty: TestPlatform;
  before(async () => {
    tp = await startTestPlatform({ shape, platformData: loadPlatformData(join(projectRoot(), 'examples', 'platform-data.json')) });
    await tp.install('scheduler-probe');
    await tp.install('scheduler-probe', { tenantId: 'no-read', grant: ['cap:storage.kv'] });
    empty = await startTestPlatform({ shape });
    await empty.install('scheduler-probe');
  });
  after(async () => {
    await tp?.stop();
    await empty?.stop();
  });

  test('list with production\'s defaults, search, filters and paging; get by id, unknown → none', async () => {
    const r = await tp.probe([
      { fn: 'clients.list-clients', args: [{}] },
      { fn: 'clients.list-clients', args: [{ includeInactive: true, page: 2, pageSize: 2 }] },
      { fn: 'clients.list-clients', args: [{ search: 'ACME' }] },
      { fn: 'clients.get-client', args: [ACME] },
      { fn: 'clients.get-client', args: [MISSING] },
      { fn: 'services.list-services', args: [{ itemKind: 'product' }] },
      { fn: 'services.list-services', args: [{ isActive: true, billingMethod: 'fixed' }] },
      { fn: 'services.list-services', args: [{ search: 'patching' }] },
      { fn: 'services.get-service', args: [DOCK] },
      { fn: 'services.get-service', args: [MISSING] },
    ]);
    assert.deepEqual(r[0].ok.items.map((c: any) => c.clientName), ['Acme Corporation', 'Globex', 'Jane Doe']);
    assert.deepEqual([r[0].ok.totalCount, r[0].ok.page, r[0].ok.pageSize], [3, 1, 25]);
    assert.deepEqual(r[1].ok.items.map((c: any) => c.clientName), ['Initech (closed)', 'Jane Doe']);
    assert.equal(r[1].ok.totalCount, 4);
    assert.deepEqual(r[2].ok.items.map((c: any) => c.clientId), [ACME]);
    assert.deepEqual(r[3], {
      ok: {
        clientId: ACME, clientName: 'Acme Corporation', clientType: 'company', isInactive: false, defaultCurrencyCode: 'USD',
        accountManagerId: '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a01', accountManagerName: 'Dana Scully', billingEmail: 'billing@acme.example',
      },
    });
    assert.deepEqual(r[4], { ok: null });
    assert.deepEqual(r[5].ok.items.map((s: any) => s.serviceName), ['USB-C Dock']);
    assert.deepEqual(r[6].ok.items.map((s: any) => s.serviceName), ['Managed Workstation', 'USB-C Dock']);
    assert.deepEqual(r[7].ok.items.map((s: any) => s.serviceName), ['Managed Workstation']);
    assert.deepEqual(r[8], {
      ok: { serviceId: DOCK, serviceName: 'USB-C Dock', itemKind: 'product', billingMethod: 'fixed', serviceTypeId: null, serviceTypeName: null, defaultRate: 18900, unitOfMeasure: 'each', isActive: true, sku: 'HW-DOCK-C' },
    });
    assert.deepEqual(r[9], { ok: null });
  });

  test('the server\'s refusals reach the guest mapped: a malformed id or long search is invalid-input; no grant is not-allowed', async () => {
    const r = await tp.probe([
      { fn: 'clients.get-client', args: ['not-a-uuid'] },
      { fn: 'services.list-services', args: [{ search: 'x'.repeat(201) }] },
      { fn: 'clients.list-clients', args: [{ page: 10_001 }] },
      { fn: 'services.list-services', args: [{ pageSize: 101 }] },
    ]);
    assert.deepEqual(r, [{ err: 'invalid-input' }, { err: 'invalid-input' }, { err: 'invalid-input' }, { err: 'invalid-input' }]);
    const denied = await tp.probe([{ fn: 'clients.list-clients', args: [{}] }, { fn: 'services.get-service', args: [DOCK] }], { tenant: 'no-read' });
    assert.deepEqual(denied, [{ err: 'not-allowed' }, { err: 'not-allowed' }]);
  });

  test('invoicing: a draft invoice from the platform data; production\'s refusals as result records', async () => {
    const item = { serviceId: DOCK, quantity: 2, description: 'Docks', rate: 18900 };
    const r = await tp.probe([
      { fn: 'invoicing.create-manual-invoice', args: [{ clientId: ACME, items: [item], poNumber: 'PO-1' }] },
      { fn: 'invoicing.create-manual-invoice', args: [{ clientId: UNKNOWN_CLIENT, items: [item] }] },
      { fn: 'invoicing.create-manual-invoice', args: [{ clientId: ACME, items: [] }] },
    ]);
    assert.deepEqual(r[0], {
      ok: { success: true, invoiceId: r[0].ok.invoiceId, invoiceNumber: 'INV-000001', status: 'draft', subtotal: 37800, tax: 0, total: 37800, error: null, fieldErrors: null },
    });
    assert.match(r[0].ok.invoiceId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(r[1].ok.success, false);
    assert.equal(r[1].ok.error, 'http 400: {"success":false,"error":"Client not found","fieldErrors":{"clientId":"Client not found"}}');
    assert.equal(r[2].ok.error, 'http 400: {"success":false,"error":"Validation error","fieldErrors":{"items":"Must include at least one item"}}');
    const res = await fetch(`${tp.url}/api/admin/invoices`);
    const { invoices } = (await res.json()) as any;
    assert.deepEqual(invoices.map((i: any) => [i.invoiceNumber, i.poNumber, i.total]), [['INV-000001', 'PO-1', 37800]]);
  });

  test('without a platform-data file: an empty page and none, never internal', async () => {
    const r = await empty.probe([
      { fn: 'clients.list-clients', args: [{ page: 3 }] },
      { fn: 'clients.get-client', args: [ACME] },
      { fn: 'services.list-services', args: [{}] },
      { fn: 'services.get-service', args: [DOCK] },
    ]);
    assert.deepEqual(r, [
      { ok: { items: [], totalCount: 0, page: 3, pageSize: 25 } },
      { ok: null },
      { ok: { items: [], totalCount: 0, page: 1, pageSize: 25 } },
      { ok: null },
    ]);
  });
});
