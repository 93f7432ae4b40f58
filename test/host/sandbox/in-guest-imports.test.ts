/**
 * The data-only imports (context, user, user-v2, secrets, logging) are answered in the sandbox
 * worker from the data that came with the task: no call reaches the main thread's host-call
 * handler, the answers and capability checks are the host interfaces' own, one execution's data
 * never answers another's, and logging lines still reach the runner's logger. I/O imports still
 * cross to the main thread.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ComponentCache } from '../../../src/host/component-cache.js';
import { SandboxPool, type SandboxRun } from '../../../src/host/sandbox/pool.js';
import type { HostOutcome } from '../../../src/host/sandbox/protocol.js';
import type { ExecutionData } from '../../../src/host/interfaces/types.js';
import { DEFAULT_CAPABILITIES, type Capability } from '../../../src/shared/capabilities.js';
import { sha256Hex } from '../../../src/shared/content-hash.js';
import { projectRoot } from '../../support/components.js';
import { forEachSandboxPath, probeComponent } from './support.js';

// The glue of each path (the JSPI glue with no spec: its I/O imports take the bridge too).
forEachSandboxPath((path) => {
  let pool: SandboxPool;
  let variant: SandboxRun['variant'];
  before(async () => {
    const bytes = await probeComponent();
    const contentHash = `sha256:${sha256Hex(bytes)}`;
    const cache = new ComponentCache({ cacheDir: join(projectRoot(), '.alga', 'cache'), source: { load: async () => bytes }, jspi: path === 'jspi' });
    variant = await (await cache.get({ tenantId: 't', extensionId: 'probe', contentHash })).variant(256);
    assert.equal(variant.jspi, path === 'jspi', 'the glue of this path (no fallback)');
    pool = new SandboxPool({ size: 1 });
    await pool.prepare(variant);
  });
  after(async () => pool?.close());

  function data(o: { tenant: string; grant?: Capability[]; secrets?: Record<string, string> }): ExecutionData {
    return {
      context: { requestId: `req-${o.tenant}`, tenantId: o.tenant, extensionId: 'probe', installId: undefined, versionId: undefined },
      granted: new Set<Capability>([...DEFAULT_CAPABILITIES, ...(o.grant ?? [])]),
      user: { tenantId: o.tenant, userId: `u-${o.tenant}`, userEmail: 'e@x', userName: 'n', userType: 'internal', clientName: 'c', additionalFields: {} },
      secrets: o.secrets,
    };
  }

  function run(d: ExecutionData, calls: unknown[], onHostCall: SandboxRun['onHostCall'], onLog?: SandboxRun['onLog']) {
    return pool.run({
      variant,
      request: {
        context: d.context,
        http: { method: 'POST', url: '/probe', headers: [], body: new TextEncoder().encode(JSON.stringify({ calls })) },
      },
      data: d,
      maxResponseBytes: 1 << 20,
      maxOutgoingBodyBytes: 1 << 20,
      onHostCall,
      onLog,
    });
  }

  async function probe(d: ExecutionData, calls: unknown[]) {
    const mainThreadCalls: string[] = [];
    const logs: [string, string][] = [];
    const r = await run(d, calls, async (iface, fn): Promise<HostOutcome> => {
      mainThreadCalls.push(`${iface}#${fn}`);
      return { err: 'denied' };
    }, (level, msg) => logs.push([level, msg]));
    assert.ok(r.ok, r.ok ? '' : r.message);
    const results = (JSON.parse(new TextDecoder().decode(r.response.body)) as { results: unknown[] }).results;
    return { results, mainThreadCalls, logs, hostCalls: r.hostCalls };
  }

  test('data-only imports are answered in the worker: none reaches the main thread, and each is counted', async () => {
    const r = await probe(data({ tenant: 'a', grant: ['cap:secrets.get'], secrets: { token: 's-a' } }), [
      { fn: 'context.get-context' },
      { fn: 'user.get-user' },
      { fn: 'user-v2.get-user' },
      { fn: 'secrets.get', args: ['token'] },
      { fn: 'secrets.list-keys' },
      { fn: 'logging.log-info', args: ['hello'] },
    ]);
    assert.deepEqual(r.mainThreadCalls, []);
    assert.equal((r.results[0] as { ok: { tenantId: string } }).ok.tenantId, 'a');
    assert.equal((r.results[1] as { ok: { userId: string } }).ok.userId, 'u-a');
    assert.equal((r.results[2] as { ok: { userId: string } }).ok.userId, 'u-a');
    assert.deepEqual(r.results.slice(3), [{ ok: 's-a' }, { ok: ['token'] }, { ok: null }]);
    assert.deepEqual(r.logs, [['info', 'hello']]);
    assert.equal(r.hostCalls?.count, 6);
  });

  test('every log line reaches the logger in order before the execution ends, also past what the line ring holds', async () => {
    // Short lines, then lines of 60 kB: a few fill the worker's line ring before the main thread
    // drains it, so the later lines go as messages; the order must survive the switch.
    const texts = Array.from({ length: 120 }, (_, i) => `line ${i} ${i < 60 ? 'short' : 'é'.repeat(30_000)}`);
    const r = await probe(data({ tenant: 'l' }), texts.map((t, i) => ({ fn: i % 3 === 2 ? 'logging.log-warn' : 'logging.log-info', args: [t] })));
    assert.deepEqual(r.mainThreadCalls, []);
    assert.deepEqual(r.logs, texts.map((t, i) => [i % 3 === 2 ? 'warn' : 'info', t]));
  });

  test('the capability checks are the interfaces\' own, on the execution\'s grants', async () => {
    const d = data({ tenant: 'b', secrets: { token: 's-b' } });
    (d.granted as Set<Capability>).delete('cap:user.read');
    (d.granted as Set<Capability>).delete('cap:log.emit');
    const r = await probe(d, [{ fn: 'secrets.get', args: ['token'] }, { fn: 'user.get-user' }, { fn: 'logging.log-info', args: ['dropped'] }]);
    assert.deepEqual(r.results, [{ err: 'denied' }, { err: 'not-allowed' }, { ok: null }]);
    assert.deepEqual(r.logs, []);
    assert.deepEqual(r.mainThreadCalls, []);
  });

  test('one execution\'s data never answers the next one\'s calls', async () => {
    await probe(data({ tenant: 'c', grant: ['cap:secrets.get'], secrets: { token: 's-c' } }), [{ fn: 'secrets.get', args: ['token'] }]);
    const r = await probe(data({ tenant: 'd', grant: ['cap:secrets.get'] }), [{ fn: 'secrets.get', args: ['token'] }, { fn: 'context.get-context' }]);
    assert.deepEqual(r.results[0], { err: 'missing' });
    assert.equal((r.results[1] as { ok: { tenantId: string } }).ok.tenantId, 'd');
  });

  test('I/O imports still go to the main thread\'s handler', async () => {
    const r = await probe(data({ tenant: 'e', grant: ['cap:scheduler.manage'] }), [{ fn: 'scheduler.list-schedules' }, { fn: 'context.get-context' }]);
    assert.deepEqual(r.mainThreadCalls, ['alga:extension/scheduler#listSchedules']);
    assert.deepEqual(r.results[0], { err: 'denied' });
  });

  test('a host function that traps stops the guest (a data-only import, an I/O import with a result), and the sandbox serves the next execution', async () => {
    const noContext = data({ tenant: 'f' });
    (noContext.granted as Set<Capability>).delete('cap:context.read');
    const denied = await run(noContext, [{ fn: 'context.get-context' }], async () => ({ err: 'denied' }));
    assert.equal(denied.ok, false);
    assert.ok(!denied.ok && denied.reason === 'trap' && /capability_not_granted: cap:context\.read/.test(denied.message), denied.ok ? '' : denied.message);
    const io = await run(data({ tenant: 'g', grant: ['cap:scheduler.manage'] }), [{ fn: 'scheduler.get-schedule', args: ['x'] }], async () => ({ trap: 'host says stop' }));
    assert.ok(!io.ok && io.reason === 'trap' && /host says stop/.test(io.message), io.ok ? 'the guest went on' : io.message);
    const next = await probe(data({ tenant: 'h' }), [{ fn: 'context.get-context' }]);
    assert.equal((next.results[0] as { ok: { tenantId: string } }).ok.tenantId, 'h');
  });
});
