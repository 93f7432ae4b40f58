/**
 * RSS after 200 distinct limits.memory_mb values (64…263) on the probe's GET /counter, against the
 * RSS after the same number of requests at one cap, measured in the same run: each distinct cap
 * used to compile and keep another copy of the component; quantized caps keep it to a few.
 */
import { check, component, fmt, runnerFor } from './support.js';

const VALUES = 200;
const rss = () => process.memoryUsage().rss;
const probe = await component('scheduler-probe');
const runner = runnerFor(probe, { concurrency: 2 });
const run = (mb: number) =>
  runner.execute(
    { 'x-alga-tenant': 'bench', 'x-alga-extension': probe.name },
    { context: { tenant_id: 'bench', extension_id: probe.name, content_hash: probe.contentHash }, http: { method: 'GET', path: '/counter' }, limits: { memory_mb: mb } },
  );
await runner.warm(probe.contentHash, 'bench', probe.name);
for (let i = 0; i < VALUES; i++) check(await run(256));
globalThis.gc?.();
const baseline = rss();
for (let i = 0; i < VALUES; i++) check(await run(64 + i));
globalThis.gc?.();
const after = rss();
const { compiledVariants } = runner.stats();
await runner.close();
console.log(`RSS after ${VALUES} requests at one cap: ${fmt(baseline / 2 ** 20)} MB`);
console.log(`RSS after ${VALUES} distinct memory_mb values: ${fmt(after / 2 ** 20)} MB, ratio ${fmt(after / baseline)}`);
console.log(`compiled variants: ${compiledVariants} (bound: 13 per component, the powers of two up to 4096 MB); ${fmt((after - baseline) / 2 ** 20 / Math.max(1, compiledVariants - 1))} MB per extra variant`);
