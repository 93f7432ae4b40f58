/**
 * What a test runtime costs (alga-node-runner/testing): the first `createTestRuntime` of a process
 * (embedded PostgreSQL start, template database, the runner's sandboxes, transpile from the disk
 * cache and compile of the ~12 MB sample) against a further one for the same, already built
 * component (its own database copied from the template, registration and install), each followed
 * by one request and close(). Three further runtimes, one at a time; the median's ratio to the
 * first is the figure. Target: ≤ 0.2. Run it in a fresh process (`node dist/bench/testing-runtime.js`);
 * the sample's build comes from the build cache (built here first if missing, not timed).
 */
import { join } from 'node:path';
import { createTestRuntime } from '../src/testing/index.js';
import { component, fmt, median, ROOT } from './support.js';

await component('scheduler-demo'); // the build, outside the timings
const extension = join(ROOT, 'components', 'scheduler-demo');

async function oneRuntime(): Promise<{ createMs: number; totalMs: number }> {
  const t0 = performance.now();
  const rt = await createTestRuntime({ extension });
  const createMs = performance.now() - t0;
  const res = await rt.request('GET', '/api/status');
  if (res.status !== 200) throw new Error(`GET /api/status answered ${res.status}: ${await res.text()}`);
  await rt.close();
  return { createMs, totalMs: performance.now() - t0 };
}

const first = await oneRuntime();
const further: { createMs: number; totalMs: number }[] = [];
for (let i = 0; i < 3; i++) further.push(await oneRuntime());
const m = median(further.map((f) => f.createMs));
const mt = median(further.map((f) => f.totalMs));
console.log(`first runtime:   create ${fmt(first.createMs)} ms, with a request and close ${fmt(first.totalMs)} ms`);
console.log(`further runtime: create ${further.map((f) => fmt(f.createMs)).join(' / ')} ms (median ${fmt(m)}), with a request and close median ${fmt(mt)} ms`);
console.log(`ratio further/first (create): ${(m / first.createMs).toFixed(3)}  (target ≤ 0.2)`);
console.log(`ratio further/first (create + request + close): ${(mt / first.totalMs).toFixed(3)}`);
