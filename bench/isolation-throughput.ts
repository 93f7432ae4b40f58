/**
 * Benchmark 1 — isolated execution throughput vs reusing one warm instance for every request.
 *
 * Part A (the isolation cost alone, one thread, no runner): GET /counter on the probe
 *   - baseline: one warm instance reused for every call (no isolation);
 *   - snapshot: the runner's strategy (restore memory + globals after each call);
 *   - fresh-instance: a never-used instance for every call; the spare's instantiation runs between
 *     calls, so throughput pays for it (latency does not, in the runner).
 * Part B (end to end through the runner, all cores): executions/s in each isolation mode, against
 * the runner with one shared instance per sandbox (`isolation: 'shared-instance'`, no isolation).
 * Target: snapshot / baseline ≥ 0.5.
 */
import { availableParallelism } from 'node:os';
import { ReadyInstances } from '../src/host/sandbox/ready-instances.js';
import { call, check, component, fmt, inThread, rate, runnerFor, stubAlga, witRequest } from './support.js';

const SECONDS = 3;
const probe = await component('scheduler-probe');
const alga = stubAlga();
const { create } = await inThread(probe, alga);
const counter = witRequest('GET', '/counter');
const warmUp = (g: { handler(r: unknown): unknown }) => {
  g.handler(witRequest('GET', '/.well-known/alga-runner/warmup'));
  return true;
};

const reused = create().guest;
const baseline = await rate(SECONDS * 1000, () => reused.handler(counter));

async function isolated(mode: 'snapshot' | 'fresh-instance'): Promise<number> {
  const ready = new ReadyInstances(mode);
  ready.register('probe', create, warmUp);
  ready.fill('probe');
  return rate(SECONDS * 1000, async () => {
    const inst = ready.take('probe');
    const r = inst.guest.handler(counter) as { body: Uint8Array };
    if (new TextDecoder().decode(r.body) !== '{"counter":1}') throw new Error('isolation broken');
    ready.release('probe', inst, true);
    await new Promise((res) => setImmediate(res)); // let the spare refill run, as in the worker
  });
}
const snapshot = await isolated('snapshot');
const fresh = await isolated('fresh-instance');

/** Where a snapshot-isolated call's time goes: the guest's own work from the warm-up snapshot's
 * state (its JS engine has not run this route before: lazily compiled functions, cold inline
 * caches) and the restore, against the same call on the instance reused all along. */
async function breakdown(): Promise<{ warm: number; fromSnapshot: number; restore: number }> {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const warmTimes: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    reused.handler(counter);
    warmTimes.push(performance.now() - t);
  }
  const ready = new ReadyInstances('snapshot');
  ready.register('probe', create, warmUp);
  ready.fill('probe');
  const calls: number[] = [];
  const restores: number[] = [];
  for (let i = 0; i < 500; i++) {
    const inst = ready.take('probe');
    let t = performance.now();
    inst.guest.handler(counter);
    calls.push(performance.now() - t);
    t = performance.now();
    ready.release('probe', inst, true);
    restores.push(performance.now() - t);
    await new Promise((res) => setImmediate(res));
  }
  return { warm: median(warmTimes), fromSnapshot: median(calls), restore: median(restores) };
}
const parts = await breakdown();

console.log('Benchmark 1: isolated execution throughput (probe, GET /counter)');
console.log(`A. one thread, no runner (${SECONDS} s each)`);
console.log(`   reuse one warm instance (baseline): ${fmt(baseline)} calls/s`);
console.log(`   snapshot restore per call:          ${fmt(snapshot)} calls/s   ratio ${fmt(snapshot / baseline, 2)}  (target ≥ 0.5)`);
console.log(`   fresh instance per call:            ${fmt(fresh)} calls/s   ratio ${fmt(fresh / baseline, 2)}`);
console.log(`   per call (medians): warm instance ${fmt(parts.warm, 3)} ms; from the snapshot ${fmt(parts.fromSnapshot, 3)} ms (×${fmt(parts.fromSnapshot / parts.warm, 2)}) + restore ${fmt(parts.restore, 3)} ms`);
console.log(`   → even a free restore would give at most ${fmt(parts.warm / parts.fromSnapshot, 2)} here: fresh state means a guest engine that has not run this route yet`);

const cores = availableParallelism();
const sample = await component('scheduler-demo');
const workloads = [
  { label: 'probe GET /counter (a trivial call)', c: probe, method: 'GET', path: '/counter' },
  { label: 'sample GET /api/status (one host call, JSON)', c: sample, method: 'GET', path: '/api/status' },
];
/** Executions per second through a runner in one isolation mode, as many callers as sandboxes. */
async function throughput(w: (typeof workloads)[number], isolation: 'shared-instance' | 'snapshot' | 'fresh-instance'): Promise<number> {
  const runner = runnerFor(w.c, { isolation, concurrency: cores });
  await runner.warm(w.c.contentHash, 'bench', w.c.name);
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (Date.now() < end) {
        check(await call(runner, w.c, w.method, w.path));
        n++;
      }
    }),
  );
  await runner.close();
  return n / SECONDS;
}

// Baseline and snapshot are measured in pairs, three times, and the median ratio is reported: single
// runs on a small VM swing by ±30 %.
const ROUNDS = 3;
console.log(`B. through the runner, ${cores} sandboxes, ${cores} concurrent callers (${SECONDS} s each; ${ROUNDS} paired rounds)`);
for (const w of workloads) {
  const pairs: { base: number; snapshot: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) pairs.push({ base: await throughput(w, 'shared-instance'), snapshot: await throughput(w, 'snapshot') });
  const fresh = await throughput(w, 'fresh-instance');
  const ratios = pairs.map((p) => p.snapshot / p.base);
  const medianRatio = [...ratios].sort((a, b) => a - b)[ROUNDS >> 1]!;
  const base = [...pairs.map((p) => p.base)].sort((a, b) => a - b)[ROUNDS >> 1]!;
  console.log(`   ${w.label}`);
  console.log(`     one shared instance, no isolation (baseline): ${pairs.map((p) => fmt(p.base)).join(' / ')} executions/s`);
  console.log(`     snapshot (default):                           ${pairs.map((p) => fmt(p.snapshot)).join(' / ')} executions/s`);
  console.log(`     snapshot / baseline per round: ${ratios.map((x) => fmt(x, 2)).join(', ')}   median ${fmt(medianRatio, 2)}  (target ≥ 0.5)`);
  console.log(`     fresh-instance:                               ${fmt(fresh)} executions/s   ratio ${fmt(fresh / base, 2)} (against the median baseline)`);
}
