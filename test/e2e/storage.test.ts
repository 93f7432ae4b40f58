/**
 * storage through a component (the probe), over the gateway, in both shapes: in-process (the runner
 * calls the storage API's core) and split (the runner is its own process and calls production's
 * internal route over HTTP). Same answers either way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildExecuteCall } from '../../src/server/execute-request.js';
import { findInstall } from '../../src/server/registry/registry.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { jspiAvailable, sandboxPathFromEnv } from '../../src/config.js';
import { WORKER_IO_APPLICATION_NAME } from '../../src/platform-worker-io.js';

/** The in-process runner's path on this Node: on the JSPI path its sandbox worker runs the put itself. */
const PATH = sandboxPathFromEnv() ?? (jspiAvailable() ? 'jspi' : 'bridge');

const b64 = (s: string) => ({ $bytes: Buffer.from(s).toString('base64') });
const entry = (key: string, value: string, revision: number | null = null, namespace = 'e2e') => ({ namespace, key, value: b64(value), revision });
const u64 = (n: number) => ({ $u64: String(n) });

for (const shape of ['in-process', 'split'] as const) describe(`storage, ${shape}`, () => {
  let tp: TestPlatform;
  before(async () => {
    tp = await startTestPlatform({ shape });
    await tp.install('scheduler-probe');
    await tp.install('scheduler-probe', { tenantId: 'other-tenant' });
  });
  after(async () => tp?.stop());

  test('put → get → put with its revision → a stale revision conflicts; delete; a missing key: missing, and delete of it conflict', async () => {
    const r = await tp.probe([
      { fn: 'storage.put', args: [entry('k', 'one')] },
      { fn: 'storage.get', args: ['e2e', 'k'] },
      { fn: 'storage.put', args: [entry('k', 'two', 1)] },
      { fn: 'storage.put', args: [entry('k', 'three', 1)] },
      { fn: 'storage.get', args: ['e2e', 'k'] },
      { fn: 'storage.delete', args: ['e2e', 'k'] },
      { fn: 'storage.get', args: ['e2e', 'k'] },
      { fn: 'storage.delete', args: ['e2e', 'k'] },
    ]);
    assert.deepEqual(r, [
      { ok: { namespace: 'e2e', key: 'k', value: b64('one'), revision: u64(1) } },
      { ok: { namespace: 'e2e', key: 'k', value: b64('one'), revision: u64(1) } },
      { ok: { namespace: 'e2e', key: 'k', value: b64('two'), revision: u64(2) } },
      { err: 'conflict' },
      { ok: { namespace: 'e2e', key: 'k', value: b64('two'), revision: u64(2) } },
      { ok: null },
      { err: 'missing' },
      { err: 'conflict' },
    ]);
  });

  test('values: any bytes round-trip; 49 149 bytes fit, 49 150 are the server\'s 400 → internal', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64');
    const r = await tp.probe([
      { fn: 'storage.put', args: [{ namespace: 'e2e-v', key: 'bin', value: { $bytes: all }, revision: null }] },
      { fn: 'storage.get', args: ['e2e-v', 'bin'] },
      { fn: 'storage.put', args: [{ namespace: 'e2e-v', key: 'big', value: { $bytes: Buffer.alloc(49_149, 7).toString('base64') }, revision: null }] },
      { fn: 'storage.put', args: [{ namespace: 'e2e-v', key: 'big', value: { $bytes: Buffer.alloc(49_150, 7).toString('base64') }, revision: null }] },
      { fn: 'storage.put', args: [entry('a/b', 'slash')] },
    ]);
    assert.deepEqual(r[1].ok.value, { $bytes: all });
    assert.equal(r[2].ok.revision.$u64, '1');
    assert.deepEqual(r[3], { err: 'internal' });
    assert.deepEqual(r[4], { err: 'internal' }, 'a key with "/" is the server\'s 400');
  });

  test('list-entries pages with the last key received as cursor: 60 keys, each exactly once, in order', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    await tp.probe(keys.map((k) => ({ fn: 'storage.put', args: [entry(k, k, null, 'e2e-page')] })));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const [page] = await tp.probe([{ fn: 'storage.list-entries', args: ['e2e-page', cursor] }]);
      const items = page.ok as { key: string; value: { $bytes: string } }[];
      for (const it of items) assert.equal(Buffer.from(it.value.$bytes, 'base64').toString(), it.key);
      if (items.length === 0) break;
      assert.ok(items.length <= 25, 'the server\'s default page');
      seen.push(...items.map((i) => i.key));
      cursor = items.at(-1)!.key;
    }
    assert.deepEqual(seen, keys);
  });

  test('another tenant\'s install of the same extension sees none of these keys', async () => {
    await tp.probe([{ fn: 'storage.put', args: [entry('mine', 'local-tenant')] }]);
    const r = await tp.probe([{ fn: 'storage.get', args: ['e2e', 'mine'] }, { fn: 'storage.list-entries', args: ['e2e', null] }], { tenant: 'other-tenant' });
    assert.deepEqual(r, [{ err: 'missing' }, { ok: [] }]);
  });

  test('an install without cap:storage.kv is denied', async () => {
    const { installId } = await tp.install('scheduler-probe', { tenantId: 'no-storage', grant: ['cap:log.emit'] });
    assert.ok(installId);
    const r = await tp.probe([{ fn: 'storage.get', args: ['e2e', 'mine'] }], { tenant: 'no-storage' });
    assert.deepEqual(r, [{ err: 'denied' }]);
  });

  test('a stopped execution\'s write is rolled back (the put was waiting on the install\'s storage row when the deadline hit)', { timeout: 180_000 }, async (t) => {
    const install = (await findInstall(tp.platform.pool, tp.platform.tenantId, 'com.alga.test.scheduler-probe'))!;
    await tp.probe([{ fn: 'storage.put', args: [entry('seed', 'x', null, 'e2e-stop')] }]);
    const holder = await tp.platform.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ext_storage_usage WHERE extension_install_id = $1 FOR UPDATE`, [install.installId]);
      const body = new TextEncoder().encode(JSON.stringify({ calls: [{ fn: 'storage.put', args: [entry('k', 'never', null, 'e2e-stop')] }] }));
      const call = buildExecuteCall(install, { method: 'POST', path: '/probe', body, headers: { 'content-type': 'application/json' }, timeoutMs: 8_000 }); // room for a loaded machine to reach the put
      let done = false;
      const execution = tp.platform.runner.execute(call.headers, call.body).finally(() => (done = true));
      // The guest has reached the put once its statement waits on the held row (polled, not timed).
      let waiting: { application_name: string }[] = [];
      for (;;) {
        const w = await tp.platform.pool.query(`SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%alga_storage_write%'`);
        waiting = w.rows;
        if (waiting.length > 0) break;
        assert.ok(!done, 'the execution ended before its put reached the database');
        await new Promise((r) => setImmediate(r));
      }
      // The path this test covers: on the JSPI path in-process, the put runs on the sandbox worker's own connection.
      if (shape === 'in-process') assert.equal(waiting[0]!.application_name === WORKER_IO_APPLICATION_NAME, PATH === 'jspi', `the put's connection is ${waiting[0]!.application_name} on the ${PATH} path`);
      const out = await execution;
      assert.match(out.error ?? '', /^execute_failed: /);
      // The deadline ended the put too: its statement is cancelled while the row is still held
      // (before, it waited for the row and was rolled back only then).
      for (;;) {
        const w = await tp.platform.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%alga_storage_write%' AND pid <> pg_backend_pid()`);
        if (w.rows[0].n === 0) break;
        assert.ok(!t.signal.aborted, 'the put still waits on the held row after its execution was stopped');
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await holder.query('COMMIT').catch(() => {});
      holder.release();
    }
    // The statement finishes once the row is free; its transaction must not commit.
    for (;;) {
      const w = await tp.platform.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%alga_storage_write%' AND state <> 'idle' AND pid <> pg_backend_pid()`);
      if (w.rows[0].n === 0) break;
      await new Promise((r) => setImmediate(r));
    }
    const [got] = await tp.probe([{ fn: 'storage.get', args: ['e2e-stop', 'k'] }]);
    assert.deepEqual(got, { err: 'missing' });
  });
});
