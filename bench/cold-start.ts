/**
 * Benchmark 2 — first execution of the ~12 MB sample (components/scheduler-demo, GET /api/status):
 *   - never seen: empty transpile cache (jco transpile + memory-cap rewrite + compile + instantiate);
 *   - after a restart: a new runner over the same, warm disk cache (no transpile);
 * each against a warm execution measured in the same run. Targets: ≤ 1.5 s and ≤ 0.3 s.
 * Restarts with and without the write barrier (Node >= 22) alternate, so its cost is a ratio.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRunner } from '../src/host/runner.js';
import { call, check, component, fmt, tempDir } from './support.js';

const sample = await component('scheduler-demo');
const cacheDir = tempDir('alga-bench-cold-');
const newRunner = (writeBarrier = true) => createRunner({ cacheDir, components: { load: async () => sample.bytes }, writeBarrier });
const timed = async (fn: () => Promise<void>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

const first = newRunner();
const neverSeen = await timed(async () => check(await call(first, sample, 'GET', '/api/status')));
let warm = Infinity;
for (let i = 0; i < 20; i++) warm = Math.min(warm, await timed(async () => check(await call(first, sample, 'GET', '/api/status'))));
await first.close();

const ROUNDS = 5;
const restarts: number[] = [];
const plainRestarts: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  for (const [into, barrier] of [[restarts, true], [plainRestarts, false]] as const) {
    const r = newRunner(barrier);
    into.push(await timed(async () => check(await call(r, sample, 'GET', '/api/status'))));
    await r.close();
  }
}
const ratios = restarts.map((t, i) => t / plainRestarts[i]!);
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const restart = mid(restarts);
rmSync(cacheDir, { recursive: true, force: true });

console.log(`Benchmark 2: first execution of the sample (${(sample.bytes.length / 2 ** 20).toFixed(1)} MB component)`);
console.log(`   warm execution (baseline, best of 20):  ${fmt(warm, 2)} ms`);
console.log(`   never-seen component (empty cache):    ${fmt(neverSeen, 0)} ms  = ${fmt(neverSeen / warm, 0)}x warm  (target ≤ 1500 ms)`);
console.log(`   after a restart, warm disk cache:       ${fmt(restart, 0)} ms  = ${fmt(restart / warm, 0)}x warm  (median of ${ROUNDS}: ${restarts.map((t) => fmt(t, 0)).join(', ')} ms; target ≤ 300 ms)`);
console.log(`   the same without the write barrier:     ${fmt(mid(plainRestarts), 0)} ms  (${plainRestarts.map((t) => fmt(t, 0)).join(', ')} ms); with ÷ without, per round: median ${fmt(mid(ratios), 2)} (${ratios.map((x) => fmt(x, 2)).join(', ')})`);
console.log(`   load ${loadavg().map((x) => fmt(x, 2)).join(' ')}`);
