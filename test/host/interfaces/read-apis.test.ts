/** clients and services: the body production's runner sends and its mapping of every answer
 * (docs/production-contract.md#clients, #services), against a recording backend. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PlatformApi, PlatformReply } from '../../../src/host/ports.js';
import { callHost, executionContext } from '../support.js';

const C = 'alga:extension/clients';
const S = 'alga:extension/services';
const INSTALL = '11111111-1111-4111-8111-111111111111';

function backend(reply: PlatformReply | ((body: Record<string, unknown>) => PlatformReply)) {
  const calls: { api: PlatformApi; installId: string; body: Record<string, unknown> }[] = [];
  return {
    calls,
    platformApi: {
      call: async (api: PlatformApi, installId: string, body: Record<string, unknown>) => {
        calls.push({ api, installId, body });
        return typeof reply === 'function' ? reply(body) : reply;
      },
    },
  };
}
const answer = (status: number, body: unknown): PlatformReply => ({ kind: 'answer', status, text: typeof body === 'string' ? body : JSON.stringify(body) });
const client = { clientId: 'c1', clientName: 'Acme', clientType: 'company', isInactive: false, defaultCurrencyCode: null, accountManagerId: null, accountManagerName: null, billingEmail: 'b@acme.example' };
const service = { serviceId: 's1', serviceName: 'Support', itemKind: 'service', billingMethod: 'hourly', serviceTypeId: null, serviceTypeName: null, defaultRate: 120.5, unitOfMeasure: 'hour', unitCode: null, isActive: true, sku: 'RS' };
const { unitCode: _unitCode, ...witService } = service; // not in the WIT record

describe('clients / services: gating before any call', () => {
  for (const [iface, cap, list, get] of [[C, 'cap:client.read', 'listClients', 'getClient'], [S, 'cap:service.read', 'listServices', 'getService']] as const) {
    test(`${iface}: not-allowed without ${cap} or without an install; paging outside 1 / 1–100 → invalid-input; nothing sent`, async () => {
      const b = backend(answer(200, {}));
      assert.deepEqual(await callHost(executionContext({ services: b }), iface, list, {}), { err: 'not-allowed' });
      assert.deepEqual(await callHost(executionContext({ services: b }), iface, get, 'x'), { err: 'not-allowed' });
      assert.deepEqual(await callHost(executionContext({ grant: [cap], installId: null, services: b }), iface, list, {}), { err: 'not-allowed' });
      assert.deepEqual(await callHost(executionContext({ grant: [cap], installId: null, services: b }), iface, get, 'x'), { err: 'not-allowed' });
      const ctx = executionContext({ grant: [cap], services: b });
      for (const input of [{ page: 0 }, { pageSize: 0 }, { pageSize: 101 }]) assert.deepEqual(await callHost(ctx, iface, list, input), { err: 'invalid-input' }, JSON.stringify(input));
      assert.equal(b.calls.length, 0);
      assert.deepEqual(await callHost(executionContext({ grant: [cap] }), iface, list, {}), { err: 'internal' }, 'no platform API configured');
    });
  }
});

describe('clients / services: the request', () => {
  test('list sends page and pageSize (defaults 1 and 25), the given filters only, and the request\'s user', async () => {
    const b = backend(answer(200, { items: [], totalCount: 0, page: 1, pageSize: 25 }));
    const user = { tenantId: 't', userId: 'u-1', userEmail: 'e', userName: 'n', userType: 'internal', clientName: '', additionalFields: {} };
    await callHost(executionContext({ grant: ['cap:client.read'], services: b, user }), C, 'listClients', { search: 'ac' });
    await callHost(executionContext({ grant: ['cap:service.read'], services: b }), S, 'listServices', { itemKind: 'product', isActive: false, page: 3, pageSize: 100 });
    await callHost(executionContext({ grant: ['cap:client.read'], services: b }), C, 'getClient', 'c-9');
    await callHost(executionContext({ grant: ['cap:service.read'], services: b, user }), S, 'getService', 's-9');
    assert.deepEqual(b.calls, [
      { api: 'clients', installId: INSTALL, body: { operation: 'list', input: { page: 1, pageSize: 25, search: 'ac' }, user: { userId: 'u-1', userType: 'internal' } } },
      { api: 'services', installId: INSTALL, body: { operation: 'list', input: { page: 3, pageSize: 100, itemKind: 'product', isActive: false } } },
      { api: 'clients', installId: INSTALL, body: { operation: 'get', input: { clientId: 'c-9' } } },
      { api: 'services', installId: INSTALL, body: { operation: 'get', input: { serviceId: 's-9' }, user: { userId: 'u-1', userType: 'internal' } } },
    ]);
  });
});

describe('clients / services: the answer', () => {
  const ctxC = (reply: PlatformReply) => executionContext({ grant: ['cap:client.read'], services: backend(reply) });
  const ctxS = (reply: PlatformReply) => executionContext({ grant: ['cap:service.read'], services: backend(reply) });

  test('a page: items with absent optionals as none; camelCase or snake_case keys', async () => {
    const r = await callHost(ctxC(answer(200, { items: [client], totalCount: 7, page: 2, pageSize: 1 })), C, 'listClients', { page: 2, pageSize: 1 });
    assert.deepEqual(r, { ok: { items: [{ ...client, defaultCurrencyCode: undefined, accountManagerId: undefined, accountManagerName: undefined }], totalCount: 7, page: 2, pageSize: 1 } });
    const snake = { service_id: 's1', service_name: 'Support', item_kind: 'product', billing_method: 'usage', default_rate: 3, unit_of_measure: 'GB', is_active: false };
    const s = await callHost(ctxS(answer(200, { items: [snake], total_count: 1, page: 1, page_size: 25 })), S, 'listServices', {});
    assert.deepEqual(s, { ok: { items: [{ serviceId: 's1', serviceName: 'Support', itemKind: 'product', billingMethod: 'usage', serviceTypeId: undefined, serviceTypeName: undefined, defaultRate: 3, unitOfMeasure: 'GB', isActive: false, sku: undefined }], totalCount: 1, page: 1, pageSize: 25 } });
  });

  test('get: the item, or none for null; no item key → internal', async () => {
    assert.deepEqual(await callHost(ctxS(answer(200, { item: service })), S, 'getService', 's1'), { ok: { ...witService, serviceTypeId: undefined, serviceTypeName: undefined } });
    assert.deepEqual(await callHost(ctxC(answer(200, { item: null })), C, 'getClient', 'c1'), { ok: undefined });
    assert.deepEqual(await callHost(ctxC(answer(200, {})), C, 'getClient', 'c1'), { err: 'internal' });
    assert.deepEqual(await callHost(ctxC(answer(200, '')), C, 'getClient', 'c1'), { err: 'internal' }, 'empty body is null: no item key');
  });

  test('statuses: 401/403 not-allowed, 400 invalid-input, 404/500/502 internal', async () => {
    for (const [status, e] of [[401, 'not-allowed'], [403, 'not-allowed'], [400, 'invalid-input'], [404, 'internal'], [409, 'internal'], [500, 'internal'], [502, 'internal']] as const) {
      assert.deepEqual(await callHost(ctxC(answer(status, { error: 'x' })), C, 'listClients', {}), { err: e }, String(status));
      assert.deepEqual(await callHost(ctxS(answer(status, 'not json')), S, 'getService', 's'), { err: e }, String(status));
    }
  });

  test('malformed answers → internal: not JSON, an item missing a field, an unknown enum text, a bad count', async () => {
    const bad = [
      answer(200, '{"items": ['),
      answer(200, { items: [{ ...client, clientName: undefined }] }),
      answer(200, { items: [{ ...client, isInactive: 'no' }] }),
      answer(200, { items: ['x'] }),
      answer(200, { items: [], totalCount: -1 }),
    ];
    for (const reply of bad) assert.deepEqual(await callHost(ctxC(reply), C, 'listClients', {}), { err: 'internal' }, reply.kind === 'answer' ? reply.text : '');
    assert.deepEqual(await callHost(ctxS(answer(200, { items: [{ ...service, itemKind: 'bundle' }] })), S, 'listServices', {}), { err: 'internal' });
    assert.deepEqual(await callHost(ctxS(answer(200, { item: { ...service, billingMethod: 'weekly' } })), S, 'getService', 's1'), { err: 'internal' });
    assert.deepEqual(await callHost(ctxS({ kind: 'unreachable', reason: 'transport', message: 'ECONNREFUSED' }), S, 'listServices', {}), { err: 'internal' });
  });

  test('an empty or itemless 2xx body is an empty page of what was asked', async () => {
    assert.deepEqual(await callHost(ctxC(answer(200, '')), C, 'listClients', { page: 4 }), { ok: { items: [], totalCount: 0, page: 4, pageSize: 25 } });
  });
});
