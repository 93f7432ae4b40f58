/**
 * /v1/execute over HTTP vs the same execution in-process vs a bare Node HTTP server answering the
 * same bytes, on the sample's `GET /api/status`, in one run. Prints p50/p99 latency (sequential
 * requests) and throughput (concurrent requests), and the ratios.
 *
 *   npm run build && node dist/bench/execute-http.js [--requests 300] [--concurrency 8]
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { startPlatform } from '../src/platform.js';
import { silentLogger } from '../src/shared/logger.js';
import { findInstall } from '../src/server/registry/registry.js';
import { buildExecuteCall } from '../src/server/execute-request.js';
import { PROJECT_ROOT } from '../src/dev/extension-dir.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '8' } } });
const N = Number(values.requests);
const C = Number(values.concurrency);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(name: string, once: () => Promise<void>) {
  for (let i = 0; i < 20; i++) await once(); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await once();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next++ < N) await once();
  }));
  const rps = N / ((performance.now() - t0) / 1000);
  return { name, p50: percentile(lat, 50), p99: percentile(lat, 99), rps };
}

const dataDir = mkdtempSync(join(tmpdir(), 'alga-bench-'));
const platform = await startPlatform({ dataDir, cacheDir: join(PROJECT_ROOT, '.alga', 'cache'), port: 0, serveExecute: true, logger: silentLogger });
try {
  const installed = await platform.installDir(join(PROJECT_ROOT, 'components', 'scheduler-demo'));
  const install = (await findInstall(platform.pool, installed.tenantId, installed.registryId))!;
  const call = buildExecuteCall(install, { method: 'GET', path: '/api/status' });
  const payload = JSON.stringify(call.body);
  const headers = { 'content-type': 'application/json', ...(call.headers as Record<string, string>) };
  const sample = await platform.runner.execute(call.headers, call.body);
  if (sample.error) throw new Error(`sample failed: ${sample.error}`);
  const sameBytes = JSON.stringify(sample);
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(sameBytes);
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/v1/execute`;
  const agent = new Agent({ connections: C * 2, keepAliveTimeout: 30_000 });
  const post = (url: string) => async () => {
    const res = await request(url, { method: 'POST', headers, body: payload, dispatcher: agent });
    await res.body.text();
  };

  const results = [
    await measure('in-process runner.execute', async () => {
      const r = await platform.runner.execute(call.headers, call.body);
      if (r.error) throw new Error(r.error);
    }),
    await measure('HTTP POST /v1/execute', post(`${platform.url}/v1/execute`)),
    await measure('bare Node HTTP, same bytes', post(bareUrl)),
  ];
  console.log(`GET /api/status of the sample; ${N} sequential requests for latency, ${N} with concurrency ${C} for throughput`);
  console.log('| path | p50 ms | p99 ms | req/s |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rps.toFixed(0)} |`);
  const [inproc, http, bareR] = results as [typeof results[0], typeof results[0], typeof results[0]];
  console.log(`HTTP / in-process: p50 ×${(http.p50 / inproc.p50).toFixed(2)}, throughput ×${(http.rps / inproc.rps).toFixed(2)}`);
  console.log(`HTTP / bare server: p50 ×${(http.p50 / bareR.p50).toFixed(2)}, throughput ×${(http.rps / bareR.rps).toFixed(3)}`);
  console.log(`HTTP overhead over in-process, p50: ${(http.p50 - inproc.p50).toFixed(2)} ms`);
  bare.close();
  await agent.close();
} finally {
  await platform.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
