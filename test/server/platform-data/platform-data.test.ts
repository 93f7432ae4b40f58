/** The platform-data file: validation on load (item and field named) and production's list semantics. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EMPTY_PLATFORM_DATA, loadPlatformData, parsePlatformData, PlatformDataError } from '../../../src/server/platform-data/platform-data.js';
import { getClient, getService, ilikeContains, listClients, listServices } from '../../../src/server/platform-data/read-service.js';
import { projectRoot } from '../../support/components.js';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const client = (n: number, o: Record<string, unknown> = {}) => ({ clientId: uuid(n), clientName: `Client ${n}`, ...o });
const service = (n: number, o: Record<string, unknown> = {}) => ({
  serviceId: uuid(n), serviceName: `Service ${n}`, itemKind: 'service', billingMethod: 'fixed', defaultRate: 100, unitOfMeasure: 'each', isActive: true, ...o,
});

function refusal(raw: unknown): string {
  try {
    parsePlatformData(raw, 'F.json');
  } catch (e) {
    assert.ok(e instanceof PlatformDataError, String(e));
    return e.message;
  }
  assert.fail('accepted');
}

describe('platform data: validation', () => {
  test('the example file in the repository loads', () => {
    const data = loadPlatformData(join(projectRoot(), 'examples', 'platform-data.json'));
    assert.ok(data.clients.length >= 3 && data.services.length >= 3);
    assert.ok(data.clients.some((c) => c.isInactive) && data.services.some((s) => !s.isActive));
  });

  test('a bad item names its list, index and field', () => {
    assert.match(refusal({ clients: [client(1), client(2, { clientId: 'nope' })] }), /^F\.json is not valid:\n {2}clients\[1\]\.clientId: must be a UUID/);
    assert.match(refusal({ services: [service(1, { itemKind: 'thing' })] }), /services\[0\]\.itemKind: /);
    assert.match(refusal({ services: [service(1, { defaultRate: '10' })] }), /services\[0\]\.defaultRate: /);
    assert.match(refusal({ services: [service(1, { isActive: undefined })] }), /services\[0\]\.isActive: /);
    assert.match(refusal({ clients: [client(1, { clientNmae: 'x' })] }), /clients\[0\]: unknown field "clientNmae"/);
    assert.match(refusal({ clients: [], tickets: [] }), /\(top level\): unknown field "tickets"/);
    assert.match(refusal({ clients: {} }), /clients: /);
    assert.match(refusal([]), /\(top level\): /);
  });

  test('a repeated id is refused, naming both items', () => {
    assert.match(refusal({ clients: [client(1), client(2), client(1)] }), /clients\[2\]\.clientId: "00000000-0000-4000-8000-000000000001" is also clients\[0\]\.clientId/);
  });

  test('a file that is missing or not JSON is refused with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alga-pd-'));
    try {
      const f = join(dir, 'bad.json');
      writeFileSync(f, '{"clients": [');
      assert.throws(() => loadPlatformData(f), (e: Error) => e instanceof PlatformDataError && e.message.includes(f) && /not JSON/.test(e.message));
      assert.throws(() => loadPlatformData(join(dir, 'none.json')), (e: Error) => e instanceof PlatformDataError && /cannot read/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('items are answered as production does: every optional field present, null when absent', () => {
    const data = parsePlatformData({ clients: [client(1)], services: [service(2, { description: 'secret words' })] });
    assert.deepEqual(data.clients[0], {
      clientId: uuid(1), clientName: 'Client 1', clientType: null, isInactive: false, defaultCurrencyCode: null, accountManagerId: null, accountManagerName: null, billingEmail: null,
    });
    assert.deepEqual(getService(data, uuid(2)), {
      serviceId: uuid(2), serviceName: 'Service 2', itemKind: 'service', billingMethod: 'fixed', serviceTypeId: null, serviceTypeName: null,
      defaultRate: 100, unitOfMeasure: 'each', unitCode: null, isActive: true, sku: null,
    });
  });
});

describe('platform data: production\'s search, filters, paging and order', () => {
  test('clients: inactive left out unless asked; search on name, id and billing email; ordered by name', () => {
    const data = parsePlatformData({
      clients: [
        client(1, { clientName: 'zeta', billingEmail: 'pay@acme.example' }),
        client(2, { clientName: 'Alpha', isInactive: true }),
        client(3, { clientName: 'beta' }),
      ],
    });
    assert.deepEqual(listClients(data, {}).items.map((c) => c.clientName), ['beta', 'zeta']);
    assert.deepEqual(listClients(data, { includeInactive: true }).items.map((c) => c.clientName), ['Alpha', 'beta', 'zeta']);
    assert.deepEqual(listClients(data, { search: ' ACME ' }).items.map((c) => c.clientName), ['zeta']);
    assert.deepEqual(listClients(data, { search: '000000000003' }).items.map((c) => c.clientName), ['beta']);
    assert.equal(listClients(data, { search: 'alpha' }).totalCount, 0);
    assert.equal(listClients(data, { search: '   ' }).totalCount, 2);
  });

  test('search has ILIKE\'s wildcards and escape', () => {
    assert.ok(ilikeContains('a_c')('xABCx'));
    assert.ok(ilikeContains('a%d')('abcd'));
    assert.ok(!ilikeContains('a\\_c')('abc'));
    assert.ok(ilikeContains('a\\_c')('a_c'));
    assert.ok(ilikeContains('(.*)')('x(.*)y'));
    assert.ok(!ilikeContains('(.*)')('xy'));
  });

  test('services: filters on kind, active and billing method; search on name, description and sku', () => {
    const data = parsePlatformData({
      services: [
        service(1, { serviceName: 'Dock', itemKind: 'product', sku: 'HW-1' }),
        service(2, { serviceName: 'Support', billingMethod: 'hourly', description: 'Remote help' }),
        service(3, { serviceName: 'Fax', isActive: false }),
      ],
    });
    const names = (input: Parameters<typeof listServices>[1]) => listServices(data, input).items.map((s) => s.serviceName);
    assert.deepEqual(names({}), ['Dock', 'Fax', 'Support']);
    assert.deepEqual(names({ itemKind: 'product' }), ['Dock']);
    assert.deepEqual(names({ isActive: false }), ['Fax']);
    assert.deepEqual(names({ isActive: true, billingMethod: 'hourly' }), ['Support']);
    assert.deepEqual(names({ search: 'remote' }), ['Support']);
    assert.deepEqual(names({ search: 'hw-' }), ['Dock']);
    assert.equal('description' in listServices(data, {}).items[0]!, false);
  });

  test('paging: (page - 1) × pageSize, totalCount of every match, each item once across pages', () => {
    const data = parsePlatformData({ clients: Array.from({ length: 53 }, (_, i) => client(i + 1, { clientName: `C${String(i).padStart(3, '0')}` })) });
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const r = listClients(data, { page, pageSize: 25 });
      assert.equal(r.totalCount, 53);
      assert.equal(r.page, page);
      assert.equal(r.pageSize, 25);
      seen.push(...r.items.map((c) => c.clientId));
    }
    assert.equal(seen.length, 53);
    assert.equal(new Set(seen).size, 53);
    assert.deepEqual(listClients(data, { page: 4, pageSize: 25 }), { items: [], totalCount: 53, page: 4, pageSize: 25 });
    assert.equal(listClients(data, {}).pageSize, 25);
  });

  test('get is by id, any case, inactive included; unknown is null; the empty platform has nothing', () => {
    const data = parsePlatformData({ clients: [client(1, { isInactive: true })] });
    assert.equal(getClient(data, uuid(1).toUpperCase())?.clientId, uuid(1));
    assert.equal(getClient(data, uuid(9)), null);
    assert.deepEqual(listClients(EMPTY_PLATFORM_DATA, {}), { items: [], totalCount: 0, page: 1, pageSize: 25 });
    assert.equal(getService(EMPTY_PLATFORM_DATA, uuid(1)), null);
  });
});
