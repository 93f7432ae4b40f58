/**
 * The sample extension end to end: built from source with componentize-js, transpiled by jco,
 * run in the sandbox, its scheduler calls served by the scheduler service on real Postgres,
 * driven over HTTP through the gateway exactly as `alga-runner dev` serves it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const SAMPLE = 'com.alga.sample.scheduler-demo';
const PROBE = 'com.alga.test.scheduler-probe';
// The same suite runs in both deployment shapes: runner in this process, and runner as its own
// process talking HTTP to the platform both ways (/v1/execute, the scheduler callback, bundles).
for (const shape of ['in-process', 'split'] as const) describe(`${shape}`, () => {
  let tp: TestPlatform;

  before(async () => {
    tp = await startTestPlatform({ shape });
    await tp.install('scheduler-demo', { tenantId: 'tenant-a' });
    await tp.install('scheduler-demo', { tenantId: 'tenant-b' });
    await tp.install('scheduler-demo', { tenantId: 'tenant-nocap', grant: ['cap:log.emit', 'cap:context.read'] });
    await tp.install('scheduler-probe', { tenantId: 'tenant-a' });
    await tp.install('scheduler-probe', { tenantId: 'tenant-nocap', grant: ['cap:log.emit'] });
  });
  after(async () => tp?.stop());

  const names = (json: any) => (json.schedules as { name: string }[]).map((s) => s.name).sort();

  describe('sample: setup → list → delete → setup again', () => {
    test('setup creates the two schedules in Postgres through the scheduler interface', async () => {
      const r = await tp.call('POST', SAMPLE, '/api/setup', { tenant: 'tenant-a', body: {} });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.created.map((c: { name: string }) => c.name).sort(), ['Daily Status Check', 'Heartbeat Check']);
      const rows = await tp.db.pool.query(
        `SELECT s.name, s.cron, s.timezone, s.payload_json, e.method, e.path
           FROM tenant_extension_schedule s JOIN extension_api_endpoint e ON e.id = s.endpoint_id
          WHERE s.tenant_id = 'tenant-a' ORDER BY s.name`,
      );
      assert.deepEqual(rows.rows, [
        { name: 'Daily Status Check', cron: '0 9 * * *', timezone: 'America/New_York', payload_json: null, method: 'GET', path: '/api/status' },
        { name: 'Heartbeat Check', cron: '*/5 * * * *', timezone: 'UTC', payload_json: { source: 'auto-setup' }, method: 'POST', path: '/api/heartbeat' },
      ]);
    });

    test('list answers both schedules', async () => {
      const r = await tp.call('GET', SAMPLE, '/api/schedules', { tenant: 'tenant-a' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(names(r.json), ['Daily Status Check', 'Heartbeat Check']);
    });

    test('delete removes one; a second delete of it is a not-found', async () => {
      const list = await tp.call('GET', SAMPLE, '/api/schedules', { tenant: 'tenant-a' });
      const hb = list.json.schedules.find((s: { name: string }) => s.name === 'Heartbeat Check');
      const del = await tp.call('DELETE', SAMPLE, `/api/schedules/${hb.id}`, { tenant: 'tenant-a' });
      assert.equal(del.status, 200, del.text);
      const again = await tp.call('DELETE', SAMPLE, `/api/schedules/${hb.id}`, { tenant: 'tenant-a' });
      assert.equal(again.status, 404, again.text);
      const rows = await tp.db.pool.query(`SELECT name FROM tenant_extension_schedule WHERE tenant_id = 'tenant-a'`);
      assert.deepEqual(rows.rows.map((r) => r.name), ['Daily Status Check']);
    });

    test('setup again re-creates only what is missing; a third setup creates nothing', async () => {
      const second = await tp.call('POST', SAMPLE, '/api/setup', { tenant: 'tenant-a', body: {} });
      assert.deepEqual(second.json.created.map((c: { name: string }) => c.name), ['Heartbeat Check']);
      const third = await tp.call('POST', SAMPLE, '/api/setup', { tenant: 'tenant-a', body: {} });
      assert.deepEqual(third.json.created, []);
      const count = await tp.db.pool.query(`SELECT count(*)::int AS n FROM tenant_extension_schedule WHERE tenant_id = 'tenant-a'`);
      assert.equal(count.rows[0].n, 2);
    });
  });

  test('tenants: a second tenant install sees none of the first tenant\'s schedules', async () => {
    const r = await tp.call('GET', SAMPLE, '/api/schedules', { tenant: 'tenant-b' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.schedules, []);
    await tp.call('POST', SAMPLE, '/api/setup', { tenant: 'tenant-b', body: {} });
    const a = await tp.call('GET', SAMPLE, '/api/schedules', { tenant: 'tenant-a' });
    const b = await tp.call('GET', SAMPLE, '/api/schedules', { tenant: 'tenant-b' });
    const ids = (j: any) => new Set(j.schedules.map((s: { id: string }) => s.id));
    const overlap = [...ids(a.json)].filter((id) => ids(b.json).has(id));
    assert.equal(b.json.schedules.length, 2);
    assert.deepEqual(overlap, []);
  });

  test('status: answers a real current timestamp (guest clocks work)', async () => {
    const before = Date.now();
    const r = await tp.call('GET', SAMPLE, '/api/status', { tenant: 'tenant-a' });
    assert.equal(r.status, 200, r.text);
    const t = Date.parse(r.json.timestamp);
    assert.ok(t >= before - 1000 && t <= Date.now() + 1000, `timestamp ${r.json.timestamp} is not now`);
  });

  describe('capability: an install without cap:scheduler.manage', () => {
    test('list is denied (through the sample)', async () => {
      const r = await tp.call('GET', SAMPLE, '/api/schedules', { tenant: 'tenant-nocap' });
      assert.equal(r.status, 403, r.text);
    });

    test('the WIT values are production\'s: list/get/get-endpoints → denied, create → success:false with its message', async () => {
      const results = await tp.probe(
        [
          { fn: 'scheduler.list-schedules' },
          { fn: 'scheduler.get-schedule', args: ['00000000-0000-4000-8000-000000000000'] },
          { fn: 'scheduler.get-endpoints' },
          { fn: 'scheduler.create-schedule', args: [{ endpoint: '/echo', cron: '*/5 * * * *' }] },
          { fn: 'scheduler.update-schedule', args: ['00000000-0000-4000-8000-000000000000', {}] },
          { fn: 'scheduler.delete-schedule', args: ['00000000-0000-4000-8000-000000000000'] },
        ],
        { tenant: 'tenant-nocap' },
      );
      const denied = 'Permission denied: cap:scheduler.manage not granted';
      assert.deepEqual(results.slice(0, 3), [{ err: 'denied' }, { err: 'denied' }, { err: 'denied' }]);
      assert.equal(results[3].ok.success, false);
      assert.equal(results[3].ok.error, denied);
      assert.equal(results[3].ok.fieldErrors, null);
      assert.equal(results[4].ok.error, denied);
      assert.equal(results[5].ok.error, denied);
      const rows = await tp.db.pool.query(`SELECT 1 FROM tenant_extension_schedule WHERE tenant_id = 'tenant-nocap'`);
      assert.equal(rows.rowCount, 0);
    });
  });

  describe('bad input', () => {
    test('unknown extension → JSON 404', async () => {
      const r = await tp.call('GET', 'com.nobody.nothing', '/api/status', { tenant: 'tenant-a' });
      assert.equal(r.status, 404);
      assert.equal(r.json.error, 'extension_not_found');
    });

    test('a malformed %-escape in the extension name → JSON 404, not a 500', async () => {
      const res = await request(`${tp.url}/api/ext/%E0%A4%A/api/status`, { headers: { 'x-alga-tenant': 'tenant-a' } });
      assert.equal(res.statusCode, 404);
      assert.equal(((await res.body.json()) as { error: string }).error, 'extension_not_found');
    });

    test('undeclared path or method → production\'s 404 {"error":"endpoint_not_found"}', async () => {
      for (const [method, path] of [['GET', '/api/nope'], ['PATCH', '/api/status'], ['GET', '/api/status/extra']]) {
        const r = await tp.call(method, SAMPLE, path, { tenant: 'tenant-a' });
        assert.equal(r.status, 404, `${method} ${path}`);
        assert.equal(r.text, '{"error":"endpoint_not_found"}', `${method} ${path}`);
      }
    });

    test('a guest that traps → production\'s execute_failed envelope, and the server keeps serving', async () => {
      const r = await tp.call('POST', PROBE, '/trap', { tenant: 'tenant-a', body: {} });
      assert.equal(r.status, 500, r.text);
      assert.equal(r.json.error, 'execute_failed');
      assert.match(r.json.message, /^execute_failed: /);
      const next = await tp.call('GET', PROBE, '/counter', { tenant: 'tenant-a' });
      assert.equal(next.status, 200, next.text);
    });
  });

  test('bridge: concurrent executions each see their own host results', async () => {
    const created: { id: string; name: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const [res] = await tp.probe([{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /echo', cron: `${i} 3 * * *`, name: `probe-${i}` }] }], { tenant: 'tenant-a' });
      assert.equal(res.ok.success, true, JSON.stringify(res));
      created.push({ id: res.ok.scheduleId, name: `probe-${i}` });
    }
    const rounds = await Promise.all(
      Array.from({ length: 18 }, (_, k) => {
        const s = created[k % created.length]!;
        return tp.probe([{ fn: 'scheduler.get-schedule', args: [s.id] }, { fn: 'context.get-context' }], { tenant: 'tenant-a' }).then((r) => ({ s, r }));
      }),
    );
    for (const { s, r } of rounds) {
      assert.equal(r[0].ok.id, s.id);
      assert.equal(r[0].ok.name, s.name);
      assert.equal(r[1].ok.tenantId, 'tenant-a');
    }
  });

});
