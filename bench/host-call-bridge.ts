/**
 * Benchmark 3 — what a host call costs the guest.
 *
 * C. The pass mark, timed inside the guest, through the runner exactly as `alga-runner exec` runs it
 *    (an in-process platform on an embedded Postgres, the probe installed with its manifest's
 *    capabilities): one execution makes N calls of an import and then N calls of a guest-local
 *    function of the same shape, the guest reads `performance.now()` around each loop, and the
 *    difference per call is the figure (probe route `POST /time-calls`). For an import answered from
 *    the execution's own data (context.get-context, user.get-user, secrets.get, logging.log-info)
 *    that difference is the target (≤ 20 µs); for an import that does I/O (scheduler.get-schedule of
 *    an unknown id, against the scheduler service called directly in this thread) the added cost is
 *    the difference minus the host function's own time (≤ 40 µs on Node 24, ≤ 75 µs on Node 20).
 *    That figure is wall time: on a loaded machine it is mostly time the guest's thread waited for a
 *    core. So C also prints the CPU time the runner's process spent per iteration (an import call
 *    plus a local call): process CPU of an execution with N iterations minus one with 1, over N − 1
 *    (every thread of the process; not Postgres, its own process). It does not grow with the load,
 *    so it is the figure to compare across runs; it bounds the import's added CPU from above.
 *    For the I/O import C also splits the added time: the guest's wait at the import (the runner's
 *    `host_call_ms` per call) against the host function called directly, and the guest's own work
 *    per call outside that wait; and, where Node reads a thread's CPU time (≥ 23.9), the main
 *    thread's share of the CPU against the direct call's.
 * A, B are diagnostics:
 * A. The bridge alone, timed where the guest pays it: the sandbox times each import call from post
 *    to reply (the runner logs `host_calls` / `host_call_ms` per execution), against the same host
 *    function called directly on the main thread.
 * B. End to end, per call: (execution with N calls − execution with 0 calls) / N through the
 *    runner, against the probe instantiated in this thread with a synchronous import; with the
 *    runner's snapshot isolation (restored in this thread too) and with one reused instance.
 *    B also carries how fast the guest itself runs in a worker thread against the main thread,
 *    which varies by tens of µs per call on a small VM even with no host call at all.
 */
import { join } from 'node:path';
import { startPlatform } from '../src/platform.js';
import type { SchedulerRequest } from '../src/host/ports.js';
import { findInstall } from '../src/server/registry/registry.js';
import { buildExecuteCall } from '../src/server/execute-request.js';
import { createSchedulerService } from '../src/server/scheduler/service.js';
import { createPostgresJobEngine } from '../src/server/scheduler/job-engine.js';
import { createAdmission } from '../src/server/scheduler/rate-limit.js';
import { handleSchedulerOperation } from '../src/server/internal-api/scheduler-operation.js';
import os from 'node:os';
import { createImportDispatch } from '../src/host/import-dispatch.js';
import type { ExecutionContext } from '../src/host/interfaces/index.js';
import { ReadyInstances } from '../src/host/sandbox/ready-instances.js';
import { createLogger, silentLogger, type Logger } from '../src/shared/logger.js';
import { CACHE_DIR, ROOT, call, check, component, fmt, inThread, median, runnerFor, stubAlga, tempDir, witRequest } from './support.js';

/** This thread's CPU µs (process.threadCpuUsage: Node ≥ 23.9; 0 where absent). */
const HAS_THREAD_CPU = typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';
function threadCpuUs(): number {
  if (!HAS_THREAD_CPU) return 0;
  const u = (process as unknown as { threadCpuUsage(): NodeJS.CpuUsage }).threadCpuUsage();
  return u.user + u.system;
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x, 1)}`;

const N = 2000;
const ROUNDS = 15;
/** Executions before measuring, so V8 has optimized the code on both sides (a fresh sandbox worker
 * takes about 20 such executions to get there). */
const WARM_ROUNDS = 25;
const probe = await component('scheduler-probe');
const ctx = { requestId: 'bench', tenantId: 'bench', extensionId: 'probe', installId: undefined, versionId: undefined };
/** A/B time the bridge with an I/O import whose host work is trivial: scheduler.get-schedule without
 * cap:scheduler.manage answers `denied` on the main thread. */
const body = (n: number) => ({ calls: Array.from({ length: n }, () => ({ fn: 'scheduler.get-schedule', args: ['x'] })) });

async function timedMedian(fn: () => Promise<void> | void): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}
async function perCall(run: (n: number) => Promise<void> | void): Promise<number> {
  for (let i = 0; i < WARM_ROUNDS; i++) await run(N);
  return ((await timedMedian(() => run(N))) - (await timedMedian(() => run(0)))) / N;
}

console.log(`Benchmark 3: what a host call costs the guest (Node ${process.versions.node}, ${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => fmt(x, 2)).join(' ')})`);

// --- C
interface TimedCalls {
  n: number;
  importMs: number;
  localMs: number;
  addedUs: number;
}
{
  const C_N = 2000;
  const C_ROUNDS = 9;
  /** Each I/O call is a Postgres round trip: fewer per execution. */
  const C_IO_N = 200;
  const UNKNOWN_SCHEDULE = '00000000-0000-4000-8000-000000000000';
  // The runner's line at the end of each execution carries how long the guest waited at its imports
  // (post to reply): read from the fields as given, no line is serialized.
  let waited = { calls: 0, ms: 0, inWorker: 0 };
  const waitLogger: Logger = {
    ...silentLogger,
    info: (msg, fields) => {
      if (msg === 'execute done' && typeof fields?.host_calls === 'number') {
        waited = { calls: fields.host_calls, ms: Number(fields.host_call_ms), inWorker: Number(fields.host_calls_in_worker ?? 0) };
      }
    },
    child: () => waitLogger,
  };
  const platform = await startPlatform({ dataDir: tempDir('alga-bench-hostcall-'), cacheDir: CACHE_DIR, logger: waitLogger });
  try {
    const installed = await platform.installDir(join(ROOT, 'components', 'scheduler-probe'));
    const install = (await findInstall(platform.pool, installed.tenantId, installed.registryId))!;
    const timeCalls = async (fn: string, args: unknown[], n: number) => {
      const body = new TextEncoder().encode(JSON.stringify({ fn, args, n }));
      const c = buildExecuteCall(install, { method: 'POST', path: '/time-calls', body });
      const cpu0 = process.cpuUsage();
      const main0 = threadCpuUs();
      const out = await platform.runner.execute(c.headers, c.body);
      const cpu = process.cpuUsage(cpu0);
      const mainUs = threadCpuUs() - main0;
      check(out);
      return { ...(JSON.parse(Buffer.from(out.body_b64!, 'base64').toString()) as TimedCalls), cpuUs: cpu.user + cpu.system, mainUs, waited };
    };
    /** Median guest-timed added µs per call (minus `baseline()`'s µs of the same round, when given);
     * CPU µs per iteration (import + local) into cpuUs. */
    const inGuest = async (fn: string, args: unknown[], n = C_N, baseline?: () => Promise<number>) => {
      for (let i = 0; i < 3; i++) await timeCalls(fn, args, n); // the sandbox's code paths warm
      const xs: number[] = [];
      const imports: number[] = [];
      const local: number[] = [];
      const cpu: number[] = [];
      const waits: number[] = [];
      const mainCpu: number[] = [];
      for (let i = 0; i < C_ROUNDS; i++) {
        const t = await timeCalls(fn, args, n);
        const one = await timeCalls(fn, args, 1);
        xs.push(t.addedUs - (baseline ? await baseline() : 0));
        // The execution makes n + 1 calls of the import (the probe's first answer, then the loop).
        if (t.waited.calls === n + 1) waits.push((t.waited.ms * 1000) / t.waited.calls);
        imports.push((t.importMs * 1000) / n);
        local.push((t.localMs * 1000) / n);
        cpu.push((t.cpuUs - one.cpuUs) / (n - 1));
        mainCpu.push((t.mainUs - one.mainUs) / (n - 1));
      }
      importUs.set(fn, median(imports));
      localUs.set(fn, median(local));
      cpuUs.set(fn, median(cpu));
      if (waits.length) waitUs.set(fn, median(waits));
      mainCpuUs.set(fn, median(mainCpu));
      return median(xs);
    };
    const importUs = new Map<string, number>();
    const cpuUs = new Map<string, number>();
    /** The guest's wait at the import per call (post to reply; for a data-only import, the host function in the worker). */
    const waitUs = new Map<string, number>();
    /** The main thread's share of cpuUs (where the thread's own CPU time can be read). */
    const mainCpuUs = new Map<string, number>();
    /** The guest's local loop (no host call) per iteration, in the sandbox: against this thread below. */
    const localUs = new Map<string, number>();
    // The scheduler host function as the runner calls it, against the same service, in this thread.
    const deps = { service: createSchedulerService({ pool: platform.pool, jobs: createPostgresJobEngine(), logger: silentLogger }), admission: createAdmission({ pool: platform.pool }), logger: silentLogger };
    const direct = createImportDispatch({
      context: { requestId: 'bench', tenantId: install.tenantId, extensionId: install.registryId, installId: install.installId },
      granted: new Set(['cap:scheduler.manage']),
      logger: silentLogger,
      services: { scheduler: { call: (id: string, request: SchedulerRequest, signal?: AbortSignal) => handleSchedulerOperation(deps, id, request, signal) } },
      guestLogs: [],
    } as unknown as ExecutionContext);
    const directUs: number[] = [];
    const directCpuUs: number[] = [];
    const directMainCpuUs: number[] = [];
    /** One round of the host function called directly, µs per call (interleaved with the guest's rounds). */
    const directRound = async () => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const main0 = threadCpuUs();
      for (let i = 0; i < C_IO_N; i++) await direct('alga:extension/scheduler', 'getSchedule', [UNKNOWN_SCHEDULE], new AbortController().signal);
      const cpu = process.cpuUsage(cpu0);
      directMainCpuUs.push((threadCpuUs() - main0) / C_IO_N);
      directUs.push(((performance.now() - t0) * 1000) / C_IO_N);
      directCpuUs.push((cpu.user + cpu.system) / C_IO_N);
      return directUs.at(-1)!;
    };
    for (let r = 0; r < 3; r++) await directRound();
    directUs.length = directCpuUs.length = directMainCpuUs.length = 0;

    console.log(`C. timed inside the guest, through the runner as exec runs it: N import calls vs N local calls in one execution (N = ${C_N}, ${C_IO_N} for I/O), median of ${C_ROUNDS} executions`);
    // Which path the runner takes for an I/O import: in the sandbox worker (JSPI), or the bridge.
    const probed = await timeCalls('scheduler.get-schedule', [UNKNOWN_SCHEDULE], 3);
    const ioPath = probed.waited.inWorker === probed.waited.calls && probed.waited.calls > 0 ? 'jspi: the I/O import runs in the sandbox worker, suspending the guest' : 'bridge: the I/O import goes to the main thread';
    console.log(`   path: ${ioPath} (${probed.waited.inWorker} of ${probed.waited.calls} calls in the worker; WebAssembly.Suspending ${typeof (WebAssembly as { Suspending?: unknown }).Suspending === 'function' ? 'present' : 'absent'})`);
    for (const [fn, args] of [
      ['context.get-context', []],
      ['user.get-user', []],
      ['secrets.get', ['missing-key']],
      ['logging.log-info', ['bench line']],
    ] as const) {
      const added = await inGuest(fn, [...args]);
      const [imp, loc] = [importUs.get(fn)!, localUs.get(fn)!];
      console.log(`     ${fn.padEnd(22)} data-only: ${fmt(imp, 1)} µs per call, baseline a local call ${fmt(loc, 1)} µs (×${fmt(imp / loc, 1)}): +${fmt(added, 1)} µs  (target ≤ 20 µs); CPU ${fmt(cpuUs.get(fn)!, 1)} µs per import + local call`);
    }
    // Each round of the guest's calls is followed by a round of direct calls: the added figure is the
    // median of the rounds' differences.
    const ioAdded = await inGuest('scheduler.get-schedule', [UNKNOWN_SCHEDULE], C_IO_N, directRound);
    const hostFnUs = median(directUs);
    const hostFnCpuUs = median(directCpuUs);
    const io = importUs.get('scheduler.get-schedule')! - localUs.get('scheduler.get-schedule')!;
    const ioTarget = Number(process.versions.node.split('.')[0]) >= 24 ? 40 : 75;
    console.log(`     scheduler.get-schedule I/O:       ${fmt(io, 1)} µs per call over a local call; baseline the host function called directly: ${fmt(hostFnUs, 1)} µs (interleaved rounds)`);
    console.log(`                                       added: ${fmt(ioAdded, 1)} µs per call (median of the rounds' differences), ×${fmt(io / hostFnUs, 2)} the direct call  (target ≤ ${ioTarget} µs on this Node)`);
    const ioWait = waitUs.get('scheduler.get-schedule');
    if (ioWait !== undefined) {
      // Where the added time goes: the guest's wait at the import (the two thread hops around the
      // host function) and the guest's own work per call outside that wait (jco's glue, the bridge's
      // post and read, the probe's loop), against the same for a data-only import.
      const own = (fn: string) => importUs.get(fn)! - waitUs.get(fn)! - localUs.get(fn)!;
      console.log(`                                       the guest's wait at the import: ${fmt(ioWait, 1)} µs per call, the host function called directly ${fmt(hostFnUs, 1)} µs (${signed(ioWait - hostFnUs)} µs: the hops); the guest's own work per call outside its wait: ${fmt(own('scheduler.get-schedule'), 1)} µs (a data-only context.get-context: ${fmt(own('context.get-context'), 1)} µs)`);
    }
    const ioCpu = cpuUs.get('scheduler.get-schedule')!;
    console.log(`                                       CPU of this process: ${fmt(ioCpu, 1)} µs per import + local call, the direct call ${fmt(hostFnCpuUs, 1)} µs: +${fmt(ioCpu - hostFnCpuUs, 1)} µs`);
    if (HAS_THREAD_CPU) {
      const mainIo = mainCpuUs.get('scheduler.get-schedule')!;
      const mainDirect = median(directMainCpuUs);
      console.log(`                                       of which the main thread ${fmt(mainIo, 1)} µs (the direct call's ${fmt(mainDirect, 1)}: ${signed(mainIo - mainDirect)} µs), the other threads (the sandbox worker) ${fmt(ioCpu - mainIo, 1)} µs (the direct call's ${fmt(hostFnCpuUs - mainDirect, 1)})`);
    }

    // Is the guest itself slower in a sandbox worker? The same local loop, in the guest instantiated
    // in this thread (snapshot-restored, as in the sandbox) against the sandbox's figure above.
    const { create } = await inThread(probe, stubAlga({ 'alga:extension/context': { getContext: () => ctx } }));
    const ready = new ReadyInstances('snapshot');
    ready.register('probe', create, (g) => (g.handler(witRequest('GET', '/.well-known/alga-runner/warmup')), true));
    await ready.fill('probe');
    const here: number[] = [];
    for (let i = 0; i < C_ROUNDS + 3; i++) {
      const inst = await ready.take('probe');
      const r = inst.guest.handler(witRequest('POST', '/time-calls', { fn: 'context.get-context', args: [], n: C_N })) as { body: Uint8Array };
      ready.release('probe', inst, true);
      here.push((((JSON.parse(new TextDecoder().decode(r.body)) as TimedCalls).localMs) * 1000) / C_N);
    }
    const hereUs = median(here.slice(3));
    const sandboxUs = localUs.get('context.get-context')!;
    console.log(`     the guest's own loop (a local call, no import): ${fmt(sandboxUs, 2)} µs per iteration in a sandbox worker, ${fmt(hereUs, 2)} µs in this thread (×${fmt(sandboxUs / hereUs, 2)})`);
  } finally {
    await platform.stop();
  }
}

console.log(`   load average now ${os.loadavg().map((x) => fmt(x, 2)).join(' ')}`);
console.log(`A/B (diagnostics): the bridge's round trip (${N} scheduler.get-schedule calls per execution, answered \`denied\` on the main thread)`);

// --- A
const perExecution: { host_calls: number; host_call_ms: number }[] = [];
const logger = createLogger({
  write: (line) => {
    const o = JSON.parse(line) as { msg: string; host_calls?: number; host_call_ms?: number };
    if (o.msg === 'execute done' && o.host_calls === N) perExecution.push({ host_calls: o.host_calls, host_call_ms: o.host_call_ms! });
  },
});
const runnerA = runnerFor(probe, { concurrency: 1, logger });
await runnerA.warm(probe.contentHash, 'bench', probe.name);
for (let i = 0; i < WARM_ROUNDS + ROUNDS; i++) check(await call(runnerA, probe, 'POST', '/probe', body(N)));
await runnerA.close();
const bridged = median(perExecution.slice(WARM_ROUNDS).map((e) => e.host_call_ms / e.host_calls));
const dispatch = createImportDispatch({
  context: ctx,
  granted: new Set(['cap:context.read']),
  logger: silentLogger,
  services: {},
} as unknown as ExecutionContext);
const directTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await dispatch('alga:extension/scheduler', 'getSchedule', ['x'], new AbortController().signal);
  directTimes.push((performance.now() - t0) / N);
}
const direct = median(directTimes);
console.log('A. the bridge alone, timed at the guest\'s import (median of', ROUNDS, 'executions)');
console.log(`     host function called directly on the main thread: ${fmt(direct * 1000, 1)} µs per call`);
console.log(`     the same call from the guest, through the bridge:  ${fmt(bridged * 1000, 1)} µs per call`);
console.log(`     added by the bridge:                               ${fmt((bridged - direct) * 1000, 1)} µs per call, ×${fmt(bridged / direct, 1)} the direct call`);

// --- B
const { create } = await inThread(probe, stubAlga({ 'alga:extension/context': { getContext: () => ctx }, 'alga:extension/scheduler': { getSchedule: () => { throw 'denied'; } } }));
const warmUp = (g: { handler(r: unknown): unknown }) => {
  g.handler(witRequest('GET', '/.well-known/alga-runner/warmup'));
  return true;
};
console.log(`B. end to end, per call: execution time with ${N} calls minus with none (median of ${ROUNDS})`);
for (const m of [
  { label: 'snapshot isolation (the default)', isolation: 'snapshot' as const },
  { label: 'one instance reused (no isolation)', isolation: 'shared-instance' as const },
]) {
  const ready = new ReadyInstances(m.isolation);
  ready.register('probe', create, warmUp);
  await ready.fill('probe');
  const inThreadPerCall = await perCall(async (n) => {
    const inst = await ready.take('probe');
    inst.guest.handler(witRequest('POST', '/probe', body(n)));
    ready.release('probe', inst, true);
  });
  const runner = runnerFor(probe, { concurrency: 1, isolation: m.isolation });
  await runner.warm(probe.contentHash, 'bench', probe.name);
  const viaRunner = await perCall(async (n) => check(await call(runner, probe, 'POST', '/probe', body(n))));
  await runner.close();
  console.log(`   ${m.label}`);
  console.log(`     guest in this thread, synchronous import: ${fmt(inThreadPerCall * 1000, 1)} µs per call`);
  console.log(`     guest in a sandbox, through the bridge:    ${fmt(viaRunner * 1000, 1)} µs per call  (+${fmt((viaRunner - inThreadPerCall) * 1000, 1)} µs, ×${fmt(viaRunner / inThreadPerCall, 2)})`);
}
console.log(`   load average now ${os.loadavg().map((x) => fmt(x, 2)).join(' ')}`);
