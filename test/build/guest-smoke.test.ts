/**
 * The sample and probe components, built from source and run through the real WIT boundary (jco
 * transpile + instantiate in this thread, hand-written import stubs, sandboxed WASI): proves the
 * guest side — routing, SDK bindings, WIT error normalisation, value conversion — works.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { buildTestComponent } from '../support/components.js';
import { bodyJson, instantiateGuest, importStubs, request, type CallRecord, type ImportStubs } from './guest-harness.js';

let demoWasm: string;
let probeWasm: string;

before(async () => {
  const [demo, probe] = await Promise.all([buildTestComponent('scheduler-demo'), buildTestComponent('scheduler-probe')]);
  demoWasm = demo.wasmPath;
  probeWasm = probe.wasmPath;
});

const ENDPOINTS = [
  { id: 'e1', method: 'GET', path: '/api/schedules', handler: 'dist/main', schedulable: true },
  { id: 'e2', method: 'DELETE', path: '/api/schedules/:id', handler: 'dist/main', schedulable: false },
  { id: 'e3', method: 'POST', path: '/api/heartbeat', handler: 'dist/main', schedulable: true },
  { id: 'e4', method: 'POST', path: '/api/setup', handler: 'dist/main', schedulable: true },
  { id: 'e5', method: 'GET', path: '/api/status', handler: 'dist/main', schedulable: true },
];

function schedule(name: string, id: string) {
  return { id, endpointPath: '/api/heartbeat', endpointMethod: 'POST', name, cron: '*/5 * * * *', timezone: 'UTC', enabled: true, payload: '{"source":"auto-setup"}' };
}

async function demo(overrides: ImportStubs = {}) {
  const calls: CallRecord[] = [];
  const guest = await instantiateGuest(demoWasm, importStubs(calls, overrides));
  return { guest, calls };
}

describe('scheduler-demo guest', () => {
  test('GET /api/status: real clock, context, invocation', async () => {
    const { guest } = await demo();
    const before = Date.now();
    const res = guest.handler(request('GET', '/api/status?x=1', undefined, [{ name: 'x-alga-trigger', value: 'schedule' }, { name: 'x-alga-schedule-id', value: 's-9' }]));
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, [{ name: 'content-type', value: 'application/json' }]);
    const b = bodyJson(res);
    const ts = Date.parse(b.timestamp);
    assert.ok(ts >= before - 1000 && ts <= Date.now() + 1000, `timestamp ${b.timestamp} is not now`);
    assert.equal(b.tenant, 'tenant-1');
    assert.equal(b.extension, 'ext-1');
    assert.equal(b.install, 'install-1');
    assert.deepEqual(b.invocation, { scheduled: true, trigger: 'schedule', scheduleId: 's-9', scheduledTime: null });
  });

  test('POST /api/setup creates what is missing, skips what exists, passes JSON payloads', async () => {
    const { guest, calls } = await demo({
      'alga:extension/scheduler': {
        getEndpoints: () => ENDPOINTS,
        listSchedules: () => [schedule('Heartbeat Check', 'hb-1')],
        createSchedule: () => ({ success: true, scheduleId: 'new-1' }),
      },
    });
    const res = guest.handler(request('POST', '/api/setup'));
    const b = bodyJson(res);
    assert.equal(res.status, 200, JSON.stringify(b));
    assert.deepEqual(b.skipped, [{ name: 'Heartbeat Check', scheduleId: 'hb-1', reason: 'already exists' }]);
    assert.equal(b.created.length, 1);
    assert.equal(b.created[0].name, 'Daily Status Check');
    assert.equal(b.created[0].scheduleId, 'new-1');
    const creates = calls.filter((c) => c.fn.endsWith('#createSchedule'));
    assert.equal(creates.length, 1);
    assert.deepEqual(creates[0]!.args, [
      { endpoint: 'GET /api/status', cron: '0 9 * * *', timezone: 'America/New_York', enabled: true, name: 'Daily Status Check', payload: undefined },
    ]);

    const fresh = await demo({ 'alga:extension/scheduler': { getEndpoints: () => ENDPOINTS } });
    const res2 = fresh.guest.handler(request('POST', '/api/setup'));
    assert.equal(res2.status, 200);
    const hb = fresh.calls.find((c) => c.fn.endsWith('#createSchedule') && (c.args[0] as { name: string }).name === 'Heartbeat Check');
    assert.ok(hb);
    assert.equal((hb.args[0] as { payload: string }).payload, '{"source":"auto-setup"}');
    assert.equal((hb.args[0] as { endpoint: string }).endpoint, 'POST /api/heartbeat');
  });

  test('POST /api/setup reports errors with parsed field errors (207)', async () => {
    const { guest } = await demo({
      'alga:extension/scheduler': {
        createSchedule: (input: { name: string }) =>
          input.name === 'Heartbeat Check'
            ? { success: false, error: 'Cron too frequent (minimum interval is 5 minutes)', fieldErrors: '{"cron":"Cron too frequent (minimum interval is 5 minutes)"}' }
            : { success: true, scheduleId: 'ok-1' },
      },
    });
    const res = guest.handler(request('POST', '/api/setup'));
    assert.equal(res.status, 207);
    const b = bodyJson(res);
    assert.deepEqual(b.errors, [
      { name: 'Heartbeat Check', error: 'Cron too frequent (minimum interval is 5 minutes)', fieldErrors: { cron: 'Cron too frequent (minimum interval is 5 minutes)' } },
    ]);
    assert.equal(b.endpoints.discovered, 0);
  });

  test('denied scheduler → 403 JSON, not a trap; the instance keeps working', async () => {
    const denied = () => {
      throw 'denied';
    };
    const { guest } = await demo({ 'alga:extension/scheduler': { listSchedules: denied, getEndpoints: denied } });
    const list = guest.handler(request('GET', '/api/schedules'));
    assert.equal(list.status, 403);
    assert.equal(bodyJson(list).error, 'scheduler_denied');
    const setup = guest.handler(request('POST', '/api/setup'));
    assert.equal(setup.status, 403);
    assert.equal(guest.handler(request('GET', '/api/status')).status, 200);
  });

  test('GET /api/schedules decodes payloads; DELETE maps not-found to 404', async () => {
    const { guest, calls } = await demo({
      'alga:extension/scheduler': {
        listSchedules: () => [schedule('Heartbeat Check', 'hb-1')],
        deleteSchedule: (id: string) => (id === 'hb-1' ? { success: true } : { success: false, error: 'Schedule not found' }),
      },
    });
    const list = bodyJson(guest.handler(request('GET', '/api/schedules')));
    assert.equal(list.count, 1);
    assert.deepEqual(list.schedules[0].payload, { source: 'auto-setup' });
    const ok = guest.handler(request('DELETE', '/api/schedules/hb-1'));
    assert.equal(ok.status, 200);
    assert.equal(bodyJson(ok).deleted, true);
    const missing = guest.handler(request('DELETE', '/api/schedules/nope'));
    assert.equal(missing.status, 404);
    assert.equal(bodyJson(missing).error, 'not_found');
    assert.deepEqual(calls.filter((c) => c.fn.endsWith('#deleteSchedule')).map((c) => c.args[0]), ['hb-1', 'nope']);
  });

  test('POST /api/heartbeat echoes payload; bad JSON → 400; unknown route → 404; wrong method → 405', async () => {
    const { guest, calls } = await demo();
    const before = Date.now();
    const res = guest.handler(request('POST', '/api/heartbeat', { source: 'auto-setup' }));
    const after = Date.now();
    assert.equal(res.status, 200);
    const b = bodyJson(res);
    assert.deepEqual(b.payload, { source: 'auto-setup' });
    assert.equal(b.event, 'heartbeat');
    // Taken during the call (however long it took); 1 s either side for the clock's resolution.
    const ts = Date.parse(b.timestamp);
    assert.ok(ts >= before - 1000 && ts <= after + 1000, `timestamp ${b.timestamp} is not now`);
    assert.ok(calls.some((c) => c.fn.endsWith('#logInfo') && String(c.args[0]).includes('heartbeat')));
    assert.equal(guest.handler(request('POST', '/api/heartbeat', '{nope')).status, 400);
    const nf = guest.handler(request('GET', '/nowhere'));
    assert.equal(nf.status, 404);
    assert.equal(bodyJson(nf).error, 'not_found');
    assert.equal(guest.handler(request('PUT', '/api/status')).status, 405);
  });
});

describe('scheduler-probe guest', () => {
  async function probe(overrides: ImportStubs = {}) {
    const calls: CallRecord[] = [];
    const guest = await instantiateGuest(probeWasm, importStubs(calls, overrides));
    const run = (callsIn: unknown[]) => {
      const res = guest.handler(request('POST', '/probe', { calls: callsIn }));
      assert.equal(res.status, 200);
      return bodyJson(res).results as unknown[];
    };
    return { guest, calls, run };
  }

  test('drives imports: ok values, WIT errors, byte/u64 conversion, unknown functions', async () => {
    const { run, calls } = await probe({
      'alga:extension/scheduler': {
        listSchedules: () => {
          throw 'denied';
        },
        getSchedule: () => undefined,
      },
      'alga:extension/storage': { put: (e: unknown) => e },
      'alga:extension/user-v2': {
        getUser: () => ({
          tenantId: 't',
          clientName: 'c',
          userId: 'u',
          userEmail: 'e',
          userName: 'n',
          userType: 'internal',
          clientId: undefined,
          additionalFields: [['k', 'v']],
        }),
      },
    });
    const results = run([
      { fn: 'scheduler.list-schedules', args: [] },
      { fn: 'scheduler.get-schedule', args: ['x'] },
      { fn: 'scheduler.create-schedule', args: [{ endpoint: '/api/x', cron: '0 * * * *', 'enabled': true, payload: '{"a":1}' }] },
      { fn: 'storage.put', args: [{ namespace: 'ns', key: 'k', value: { $bytes: 'AAEC/w==' }, revision: { $u64: '18446744073709551615' } }] },
      { fn: 'logging.log-info', args: ['hello'] },
      { fn: 'user-v2.get-user', args: [] },
      { fn: 'secrets.get', args: ['k'] },
      { fn: 'nope.nothing', args: [] },
      { fn: 'context.get-context', args: [] },
    ]);
    assert.deepEqual(results[0], { err: 'denied' });
    assert.deepEqual(results[1], { ok: null });
    assert.deepEqual(results[2], { ok: { success: true, scheduleId: '00000000-0000-4000-8000-000000000001', error: null, fieldErrors: null } });
    assert.deepEqual(results[3], { ok: { namespace: 'ns', key: 'k', value: { $bytes: 'AAEC/w==' }, revision: { $u64: '18446744073709551615' } } });
    assert.deepEqual(results[4], { ok: null });
    assert.deepEqual(results[5], {
      ok: { tenantId: 't', clientName: 'c', userId: 'u', userEmail: 'e', userName: 'n', userType: 'internal', clientId: null, additionalFields: [['k', 'v']] },
    });
    assert.deepEqual(results[6], { err: 'missing' });
    assert.deepEqual(results[7], { err: { probe: 'unknown function nope.nothing' } });
    assert.equal((results[8] as { ok: { tenantId: string } }).ok.tenantId, 'tenant-1');

    const put = calls.find((c) => c.fn === 'alga:extension/storage#put')!;
    const entry = put.args[0] as { value: Uint8Array; revision: bigint };
    assert.ok(entry.value instanceof Uint8Array);
    assert.deepEqual([...entry.value], [0, 1, 2, 255]);
    assert.equal(entry.revision, 18446744073709551615n);
    const create = calls.find((c) => c.fn.endsWith('#createSchedule'))!;
    assert.equal((create.args[0] as { payload: string }).payload, '{"a":1}');
  });

  test('every function of every interface is reachable', async () => {
    const { run, calls } = await probe();
    const fns = [
      ['context.get-context', []],
      ['secrets.get', ['k']],
      ['secrets.list-keys', []],
      ['http.fetch', [{ method: 'GET', url: 'https://example.com/', headers: [], body: null }]],
      ['storage.get', ['ns', 'k']],
      ['storage.put', [{ namespace: 'ns', key: 'k', value: { $bytes: '' } }]],
      ['storage.delete', ['ns', 'k']],
      ['storage.list-entries', ['ns', null]],
      ['logging.log-info', ['i']],
      ['logging.log-warn', ['w']],
      ['logging.log-error', ['e']],
      ['ui-proxy.call-route', ['/r', { $bytes: 'AA==' }]],
      ['user.get-user', []],
      ['user-v2.get-user', []],
      ['scheduler.list-schedules', []],
      ['scheduler.get-schedule', ['id']],
      ['scheduler.create-schedule', [{ endpoint: '/a', cron: '0 * * * *' }]],
      ['scheduler.update-schedule', ['id', { 'enabled': false }]],
      ['scheduler.delete-schedule', ['id']],
      ['scheduler.get-endpoints', []],
      ['invoicing.create-manual-invoice', [{ 'client-id': 'c', items: [{ 'service-id': 's', quantity: 1, description: 'd', rate: 2 }] }]],
      ['clients.list-clients', [{ page: 1 }]],
      ['clients.get-client', ['c']],
      ['services.list-services', [{ 'item-kind': 'service' }]],
      ['services.get-service', ['s']],
    ] as const;
    const results = run(fns.map(([fn, args]) => ({ fn, args })));
    assert.equal(results.length, fns.length);
    for (const [i, r] of results.entries()) {
      assert.ok(r && typeof r === 'object' && ('ok' in r || 'err' in r), `${fns[i]![0]}: ${JSON.stringify(r)}`);
      assert.ok(!('err' in r) || typeof (r as { err: unknown }).err === 'string', `${fns[i]![0]}: ${JSON.stringify(r)}`);
    }
    assert.equal(calls.length, fns.length);
    const inv = calls.find((c) => c.fn.endsWith('#createManualInvoice'))!;
    assert.deepEqual(inv.args[0], {
      clientId: 'c',
      items: [{ serviceId: 's', quantity: 1, description: 'd', rate: 2, isDiscount: undefined, discountType: undefined, appliesToItemId: undefined, appliesToServiceId: undefined }],
      invoiceDate: undefined,
      dueDate: undefined,
      poNumber: undefined,
    });
  });

  test('counter is per instance; clocks and random are real; /big; /items/:id; /echo', async () => {
    const a = await probe();
    const b = await probe();
    const count = (g: typeof a.guest) => bodyJson(g.handler(request('GET', '/counter'))).counter;
    assert.equal(count(a.guest), 1);
    assert.equal(count(a.guest), 2);
    assert.equal(count(b.guest), 1);

    const before = Date.now();
    const t = bodyJson(a.guest.handler(request('GET', '/time')));
    assert.ok(t.now >= before - 1000 && t.now <= Date.now() + 1000, `guest clock ${t.iso}`);
    assert.ok(t.random >= 0 && t.random < 1);

    const big = a.guest.handler(request('POST', '/big', { bytes: 100_000 }));
    assert.equal(big.status, 200);
    assert.equal(big.body?.length, 100_000);

    const item = bodyJson(a.guest.handler(request('PUT', '/items/a%20b?x=1', { v: 1 })));
    assert.deepEqual(item, { id: 'a b', method: 'PUT', path: '/items/a%20b', query: 'x=1', body: { v: 1 } });

    const echo = bodyJson(a.guest.handler(request('POST', '/echo', 'raw', [{ name: 'x-a', value: '1' }])));
    assert.equal(echo.body, 'raw');
    assert.deepEqual(echo.headers, [{ name: 'x-a', value: '1' }]);
    assert.equal(echo.context.installId, 'install-1');

    assert.equal(a.guest.handler(request('GET', '/nowhere')).status, 404);
    const alloc = a.guest.handler(request('POST', '/alloc', { mb: 4 }));
    assert.deepEqual(bodyJson(alloc), { allocatedMb: 4 });
  });

  test('POST /trap traps (throws to the host)', async () => {
    const { guest } = await probe();
    assert.throws(() => guest.handler(request('POST', '/trap')));
  });
});
