/**
 * Benchmark 4 — peak RSS of the process with 8 concurrent executions (8 sandboxes), on the sample
 * (GET /api/status) and on the probe allocating 16 MB each (POST /alloc {mb:16}), against the RSS
 * of the same process before the runner started, measured in the same run.
 */
import { call, check, component, fmt, runnerFor } from './support.js';

const CONCURRENT = 8;
const ROUNDS = 5;
const rss = () => process.memoryUsage().rss;
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 2);

const sample = await component('scheduler-demo');
const probe = await component('scheduler-probe');
globalThis.gc?.();
const before = rss();

const runner = runnerFor(sample, { concurrency: CONCURRENT });
await runner.warm(sample.contentHash, 'bench', sample.name);
const afterWarm = rss();
peak = afterWarm;
for (let i = 0; i < ROUNDS; i++) {
  const rs = await Promise.all(Array.from({ length: CONCURRENT }, () => call(runner, sample, 'GET', '/api/status')));
  rs.forEach(check);
}
const samplePeak = peak;
await runner.close();

const probeRunner = runnerFor(probe, { concurrency: CONCURRENT });
await probeRunner.warm(probe.contentHash, 'bench', probe.name);
peak = rss();
for (let i = 0; i < ROUNDS; i++) {
  const rs = await Promise.all(Array.from({ length: CONCURRENT }, () => call(probeRunner, probe, 'POST', '/alloc', { mb: 16 })));
  rs.forEach(check);
}
const allocPeak = peak;
await probeRunner.close();
clearInterval(sampler);

const m = (b: number) => `${fmt(b / 2 ** 20, 0)} MB`;
console.log(`Benchmark 4: peak RSS with ${CONCURRENT} concurrent executions (${CONCURRENT} sandboxes, ${ROUNDS} rounds)`);
console.log(`   process before the runner (baseline): ${m(before)}`);
console.log(`   sample, after warm (live + spare instance in each sandbox): ${m(afterWarm)}  (+${m(afterWarm - before)})`);
console.log(`   sample, peak during executions:       ${m(samplePeak)}  = ${fmt(samplePeak / before, 1)}x baseline, +${m((samplePeak - before) / CONCURRENT)} per sandbox`);
console.log(`   probe allocating 16 MB each, peak:    ${m(allocPeak)}  = ${fmt(allocPeak / before, 1)}x baseline`);
