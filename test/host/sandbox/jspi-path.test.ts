/**
 * The JSPI path (Node ≥ 24.20): with jco's JSPI glue and a WorkerIoSpec, an I/O import runs in the
 * sandbox worker on that worker's services, with the same capability checks and WIT values, and the
 * main thread answers no host call at all. Without a spec the same glue takes the bridge.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { jspiAvailable } from '../../../src/config.js';
import { fixtureIo, json, probeComponent, startSandboxHarness, type SandboxHarness } from './support.js';

const skip = jspiAvailable() ? false : `no WebAssembly.Suspending on Node ${process.versions.node}`;
const SCHEDULER = ['cap:scheduler.manage'];

before(async () => {
  await probeComponent();
});

const probeCalls = (h: SandboxHarness, calls: { fn: string; args: unknown[] }[], o: Parameters<SandboxHarness['call']>[2] = {}) =>
  h.call('POST', '/probe', { providers: SCHEDULER, ...o, body: { calls } });
const create = { fn: 'scheduler.create-schedule', args: [{ endpoint: '/tick', cron: '* * * * *' }] };
const getUnknown = { fn: 'scheduler.get-schedule', args: ['no-such-id'] };
const doneLine = (h: SandboxHarness) => h.logs.filter((l) => l.msg === 'execute done').at(-1)!;

test('an I/O import runs in the sandbox worker on its spec\'s services; the main thread answers none', { skip, timeout: 300_000 }, async () => {
  const h = await startSandboxHarness({ sandboxPath: 'jspi', concurrency: 1, workerIo: () => fixtureIo({ label: 'w' }) });
  try {
    const r = await probeCalls(h, [create, getUnknown, create]);
    assert.equal(r.status, 200);
    assert.deepEqual(json(r).results, [{ ok: { success: true, scheduleId: 'w-1', error: null, fieldErrors: null } }, { err: 'not-found' }, { ok: { success: true, scheduleId: 'w-2', error: null, fieldErrors: null } }]);
    const stats = h.runner.stats();
    assert.equal(stats.sandboxPath, 'jspi');
    assert.equal(stats.jspiGlue, 1, 'the component got the JSPI glue (no fallback to the sync glue)');
    assert.equal(stats.syncGlue, 0);
    assert.equal(stats.bridgedHostCalls, 0, 'no host call reached the main thread, warm-ups included');
    assert.equal(doneLine(h).host_calls, 3);
    assert.equal(doneLine(h).host_calls_in_worker, 3);
    // The worker's services log to the execution's lines, with its request id, in order.
    const calls = h.logs.filter((l) => l.msg === 'fixture scheduler call');
    assert.deepEqual(calls.map((l) => l.operation), ['create', 'get', 'create']);
    assert.ok(calls.every((l) => l.request_id === doneLine(h).request_id));
  } finally {
    await h.runner.close();
  }
});

test('capability checks run in the worker: without cap:scheduler.manage the call is refused there and the backend never reached', { skip, timeout: 300_000 }, async () => {
  const h = await startSandboxHarness({ sandboxPath: 'jspi', concurrency: 1, workerIo: () => fixtureIo({ label: 'w' }) });
  try {
    const r = await probeCalls(h, [create, getUnknown], { providers: [] });
    const [created, got] = json(r).results;
    assert.equal(created.ok.success, false);
    assert.match(created.ok.error, /cap:scheduler\.manage not granted/);
    assert.deepEqual(got, { err: 'denied' });
    assert.equal(h.logs.filter((l) => l.msg === 'fixture scheduler call').length, 0);
    assert.ok(h.logs.some((l) => /scheduler capability denied/.test(l.msg)), 'the refusal is logged, from the worker');
    assert.equal(h.runner.stats().bridgedHostCalls, 0);
  } finally {
    await h.runner.close();
  }
});

test('a worker keeps one set of services per spec, by value: two specs never share a scheduler', { skip, timeout: 300_000 }, async () => {
  const h = await startSandboxHarness({ sandboxPath: 'jspi', concurrency: 1, workerIo: (ctx) => fixtureIo({ label: ctx.tenantId }) });
  try {
    const ids = [];
    for (const tenant of ['a', 'b', 'a', 'b', 'a']) ids.push(json(await probeCalls(h, [create], { tenant })).results[0].ok.scheduleId);
    assert.deepEqual(ids, ['a-1', 'b-1', 'a-2', 'b-2', 'a-3']);
  } finally {
    await h.runner.close();
  }
});

test('a deadline during an I/O import in the worker: the worker is stopped, its services with it, and the runner keeps serving', { skip, timeout: 300_000 }, async () => {
  const h = await startSandboxHarness({ sandboxPath: 'jspi', concurrency: 1, workerIo: (ctx) => fixtureIo({ label: 'w', slowCreate: ctx.tenantId === 'slow' }) });
  try {
    assert.equal(json(await probeCalls(h, [create])).results[0].ok.scheduleId, 'w-1');
    const r = await probeCalls(h, [create], { tenant: 'slow', limits: { timeout_ms: 300 } });
    assert.match(r.error ?? '', /^execute_failed: timeout: execution exceeded 300 ms/);
    // A new worker, new services: its scheduler starts again at 1.
    assert.equal(json(await probeCalls(h, [create])).results[0].ok.scheduleId, 'w-1');
  } finally {
    await h.runner.close();
  }
});

test('a stopped execution starts no I/O import after its stop: the guest resumed from its aborted call is refused its next one', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alga-worker-io-'));
  const callsFile = join(dir, 'calls');
  const slow = (tenant: string) => tenant === 'slow';
  const h = await startSandboxHarness({
    sandboxPath: 'jspi',
    concurrency: 1,
    workerIo: (ctx) => fixtureIo({ label: 'w', slowCreate: slow(ctx.tenantId), ...(slow(ctx.tenantId) ? { callsFile } : {}) }),
  });
  try {
    const r = await probeCalls(h, [create, getUnknown, create], { tenant: 'slow', limits: { timeout_ms: 300 } });
    assert.match(r.error ?? '', /^execute_failed: timeout/);
    // The abort and whatever the resumed guest does next run in one turn of the old worker; an
    // execution on its replacement comes after.
    for (let i = 0; i < 500 && !(existsSync(callsFile) && readFileSync(callsFile, 'utf8').includes('aborted')); i++) await new Promise((t) => setTimeout(t, 10));
    assert.equal(json(await probeCalls(h, [create])).results[0].ok.scheduleId, 'w-1');
    assert.deepEqual(readFileSync(callsFile, 'utf8').trim().split('\n'), ['create', 'create aborted']);
  } finally {
    await h.runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closing the runner closes each worker\'s services', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alga-worker-io-'));
  const closedFile = join(dir, 'closed');
  const h = await startSandboxHarness({ sandboxPath: 'jspi', concurrency: 1, workerIo: () => fixtureIo({ label: 'w', closedFile }) });
  try {
    await probeCalls(h, [create]);
    assert.equal(existsSync(closedFile), false);
    await h.runner.close();
    assert.equal(existsSync(closedFile), true);
  } finally {
    await h.runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closing the runner closes a worker\'s services even when their flush throws', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alga-worker-io-'));
  const closedFile = join(dir, 'closed');
  const h = await startSandboxHarness({ sandboxPath: 'jspi', concurrency: 1, workerIo: () => fixtureIo({ label: 'w', closedFile, flushThrows: true }) });
  try {
    assert.equal(json(await probeCalls(h, [create])).results[0].ok.scheduleId, 'w-1');
    await h.runner.close();
    assert.equal(existsSync(closedFile), true);
  } finally {
    await h.runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the JSPI glue without a spec: the I/O imports take the bridge, with the same answers', { skip, timeout: 300_000 }, async () => {
  const made: string[] = [];
  const h = await startSandboxHarness({
    sandboxPath: 'jspi',
    concurrency: 1,
    services: {
      scheduler: {
        call: async (_i, req) => {
          made.push(req.operation);
          return req.operation === 'create' ? { status: 201, body: { success: true, scheduleId: 'main-1' } } : { status: 404, body: null };
        },
      },
    },
  });
  try {
    const r = await probeCalls(h, [create, getUnknown]);
    assert.deepEqual(json(r).results, [{ ok: { success: true, scheduleId: 'main-1', error: null, fieldErrors: null } }, { err: 'not-found' }]);
    assert.deepEqual(made, ['create', 'get']);
    assert.equal(h.runner.stats().jspiGlue, 1);
    assert.ok(h.runner.stats().bridgedHostCalls >= 2);
    assert.equal(doneLine(h).host_calls_in_worker, undefined);
  } finally {
    await h.runner.close();
  }
});
