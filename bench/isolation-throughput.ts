/**
 * Benchmark 1 — isolated execution throughput vs reusing one warm instance for every request.
 *
 * Part A (the isolation cost alone, one thread, no runner), per workload, in interleaved rounds:
 *   - baseline: one warm instance reused for every call (no isolation), modules as compiled without
 *     the write barrier;
 *   - snapshot, full compare: restore after each call by comparing the whole memory (no barrier);
 *   - snapshot, marks: the barrier's modules, restore copying the marked pages (Node >= 22);
 *   - the barrier's own cost: a warm instance of the barrier's modules reused for every call.
 * Part B (end to end through the runner, all cores): executions/s with snapshot isolation (the
 * default: marks where the engine allows) and with the full compare, against the runner with one
 * shared instance per sandbox (`isolation: 'shared-instance'`, no isolation, no barrier), in paired
 * rounds; fresh-instance once. Target (sample GET /api/status, through the runner): ≥ 0.7 on Node 24.
 * B also prints each mode's CPU time per execution (every thread of the process) and its ratio to
 * the baseline's in the same round: on a loaded machine the throughput ratio of one round swings
 * by ×2 or more, the CPU ratio far less.
 */
import { availableParallelism, loadavg } from 'node:os';
import { InstanceSnapshot } from '../src/host/sandbox/snapshot.js';
import { multiMemorySupported } from '../src/host/sandbox/write-barrier.js';
import type { Runner } from '../src/host/runner.js';
import { call, check, component, fmt, inThread, median, runnerFor, stubAlga, witRequest, type BenchComponent } from './support.js';

const ROUNDS = 3;
const load = () => loadavg().map((x) => fmt(x, 2)).join(' ');
const barrier = multiMemorySupported();
console.log(`Benchmark 1: isolated execution throughput — Node ${process.version}, write barrier ${barrier ? 'available' : 'unavailable (no multi-memory)'}, load ${load()}`);

const probe = await component('scheduler-probe');
const sample = await component('scheduler-demo');
const alga = stubAlga({
  'alga:extension/context': { getContext: () => ({ requestId: 'bench', tenantId: 'bench', extensionId: 'bench', installId: undefined, versionId: undefined }) },
  'alga:extension/logging': { logDebug: () => {}, logInfo: () => {}, logWarn: () => {}, logError: () => {} },
});
const warmUpRequest = witRequest('GET', '/.well-known/alga-runner/warmup');

type Create = Awaited<ReturnType<typeof inThread>>['create'];
function memoryOf(cores: ReturnType<Create>['cores']): WebAssembly.Memory {
  for (const c of cores) if (c.instance.exports.memory instanceof WebAssembly.Memory) return c.instance.exports.memory;
  throw new Error('no memory');
}

/** A snapshotted instance: call, restore, repeat (what a sandbox worker does per execution). */
function snapshotted(create: Create) {
  const created = create();
  created.guest.handler(warmUpRequest);
  const snapshot = new InstanceSnapshot(memoryOf(created.cores), created.cores, created.marked);
  return { guest: created.guest, snapshot };
}

async function partA(c: BenchComponent, method: string, path: string): Promise<void> {
  const plain = (await inThread(c, alga, false)).create;
  const marked = barrier ? (await inThread(c, alga, true)).create : undefined;
  const request = witRequest(method, path);
  const reused = plain().guest;
  const reusedMarked = marked?.().guest;
  const full = snapshotted(plain);
  const byMarks = marked ? snapshotted(marked) : undefined;
  if (byMarks && !byMarks.snapshot.byMarks) throw new Error('the barrier modules did not give a snapshot restored by marks');
  for (let i = 0; i < 50; i++) {
    reused.handler(request);
    reusedMarked?.handler(request);
  }
  const times: Record<string, number[]> = { reused: [], fullCall: [], fullRestore: [], marksCall: [], marksRestore: [], reusedMarked: [] };
  const time = (into: string, f: () => unknown) => {
    const t = performance.now();
    f();
    times[into]!.push(performance.now() - t);
  };
  const rates: Record<string, number[]> = { reused: [], full: [], marks: [] };
  const rate = (into: string, f: () => void) => {
    const end = performance.now() + 1000;
    let n = 0;
    while (performance.now() < end) {
      f();
      n++;
    }
    rates[into]!.push(n);
  };
  for (let r = 0; r < ROUNDS * 2; r++) {
    rate('reused', () => time('reused', () => reused.handler(request)));
    rate('full', () => {
      time('fullCall', () => full.guest.handler(request));
      time('fullRestore', () => full.snapshot.restore());
    });
    if (byMarks) {
      rate('marks', () => {
        time('marksCall', () => byMarks.guest.handler(request));
        time('marksRestore', () => {
          if (byMarks.snapshot.restore()) throw new Error('the write barrier missed a write');
        });
      });
      for (let i = 0; i < 200; i++) time('reusedMarked', () => reusedMarked!.handler(request));
    }
  }
  const base = median(rates.reused!);
  const ms = (k: string) => fmt(median(times[k]!), 3);
  console.log(`   ${c.name} ${method} ${path}`);
  console.log(`     reuse one warm instance (baseline): ${fmt(base)} calls/s; call ${ms('reused')} ms`);
  console.log(`     snapshot, full compare:             ${fmt(median(rates.full!))} calls/s   ratio ${fmt(median(rates.full!) / base, 2)}; call ${ms('fullCall')} ms + restore ${ms('fullRestore')} ms`);
  if (byMarks) {
    console.log(`     snapshot, marks (write barrier):    ${fmt(median(rates.marks!))} calls/s   ratio ${fmt(median(rates.marks!) / base, 2)}; call ${ms('marksCall')} ms + restore ${ms('marksRestore')} ms`);
    console.log(`     the barrier's cost, warm instance:  call ${ms('reusedMarked')} ms (×${fmt(median(times.reusedMarked!) / median(times.reused!), 2)} the baseline call)`);
  }
}

console.log(`A. one thread, no runner (${ROUNDS * 2} interleaved rounds of 1 s each; medians)`);
await partA(probe, 'GET', '/counter');
await partA(sample, 'GET', '/api/status');
console.log(`   load ${load()}`);

const cores = availableParallelism();
const workloads = [
  { label: 'probe GET /counter (a trivial call)', c: probe, method: 'GET', path: '/counter' },
  { label: 'sample GET /api/status (one host call, JSON)', c: sample, method: 'GET', path: '/api/status' },
];
type Mode = { isolation: 'shared-instance' | 'snapshot' | 'fresh-instance'; writeBarrier: boolean };
const SLICE_MS = 500;
const SLICES = 10;
/** CPU time (all of this process's threads) per execution of the last slice, in ms. */
let cpuPerExecution = 0;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Executions in `ms` through a runner, as many callers as sandboxes. */
async function slice(runner: Runner, w: (typeof workloads)[number], ms: number): Promise<number> {
  const end = Date.now() + ms;
  const cpu0 = cpuMs();
  let n = 0;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (Date.now() < end) {
        check(await call(runner, w.c, w.method, w.path));
        n++;
      }
    }),
  );
  cpuPerExecution = (cpuMs() - cpu0) / n;
  return (n * 1000) / ms;
}
async function started(w: (typeof workloads)[number], mode: Mode): Promise<Runner> {
  const runner = runnerFor(w.c, { ...mode, concurrency: cores });
  await runner.warm(w.c.contentHash, 'bench', w.c.name);
  await slice(runner, w, 200);
  return runner;
}

// Load on a shared VM changes from second to second: the modes run in short slices, one after the
// other, and each slice's rate is divided by the baseline's of the same round.
console.log(`B. through the runner, ${cores} sandboxes, ${cores} concurrent callers (${SLICES} rounds of ${SLICE_MS} ms per mode, interleaved; medians)`);
for (const w of workloads) {
  const modes = {
    base: await started(w, { isolation: 'shared-instance', writeBarrier: false }),
    snapshot: await started(w, { isolation: 'snapshot', writeBarrier: true }),
    full: await started(w, { isolation: 'snapshot', writeBarrier: false }),
  };
  const rates: Record<keyof typeof modes, number[]> = { base: [], snapshot: [], full: [] };
  const cpu: Record<keyof typeof modes, number[]> = { base: [], snapshot: [], full: [] };
  for (let r = 0; r < SLICES; r++) {
    for (const k of Object.keys(modes) as (keyof typeof modes)[]) {
      rates[k].push(await slice(modes[k], w, SLICE_MS));
      cpu[k].push(cpuPerExecution);
    }
  }
  for (const runner of Object.values(modes)) await runner.close();
  const fresh = await started(w, { isolation: 'fresh-instance', writeBarrier: false });
  const freshRate = await slice(fresh, w, 2000);
  await fresh.close();
  const ratios = (k: 'snapshot' | 'full') => rates[k].map((x, i) => x / rates.base[i]!);
  // The CPU figure: baseline CPU per execution ÷ the mode's, per round (what the ratio of
  // throughputs is when the cores are ours alone; it moves far less with the machine's load).
  const cpuRatio = (k: 'snapshot' | 'full') => fmt(median(cpu[k].map((x, i) => cpu.base[i]! / x)), 2);
  console.log(`   ${w.label}`);
  console.log(`     one shared instance, no isolation (baseline): ${fmt(median(rates.base))} executions/s, CPU ${fmt(median(cpu.base), 3)} ms each`);
  console.log(`     snapshot (default${barrier ? ', marks' : ', full compare'}): ${fmt(median(rates.snapshot))} executions/s   ratio ${fmt(median(ratios('snapshot')), 2)} (rounds ${fmt(Math.min(...ratios('snapshot')), 2)}–${fmt(Math.max(...ratios('snapshot')), 2)}); CPU ${fmt(median(cpu.snapshot), 3)} ms each, ratio ${cpuRatio('snapshot')}`);
  console.log(`     snapshot, full compare:    ${fmt(median(rates.full))} executions/s   ratio ${fmt(median(ratios('full')), 2)} (rounds ${fmt(Math.min(...ratios('full')), 2)}–${fmt(Math.max(...ratios('full')), 2)}); CPU ${fmt(median(cpu.full), 3)} ms each, ratio ${cpuRatio('full')}`);
  console.log(`     fresh-instance:            ${fmt(freshRate)} executions/s   ratio ${fmt(freshRate / median(rates.base), 2)}`);
}
console.log(`   load ${load()}`);
