/**
 * Memory is bounded by configuration, not by what clients send: distinct limits.memory_mb values
 * over /v1/execute compile one variant per power of two, not one per value.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { quantizeMemoryMb } from '../../../src/host/runner.js';
import { runnerRoutes } from '../../../src/host/http/runner-service.js';
import { createHttpServer, listen } from '../../../src/shared/http-server.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { projectRoot } from '../../support/components.js';
import { startProbeRunner, type ProbeRunner } from './probe-runner.js';

let probe: ProbeRunner;
let server: Server;
let url: string;

before(async () => {
  probe = await startProbeRunner({ concurrency: 1 });
  server = createHttpServer(runnerRoutes({ runner: probe.runner, cacheDir: join(projectRoot(), '.alga', 'cache') }), silentLogger);
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
});
after(async () => {
  server?.closeAllConnections();
  server?.close();
  await probe?.runner.close();
});

test('40 distinct memory_mb values compile at most two variants; each request gets at least its cap', { timeout: 300_000 }, async () => {
  for (let mb = 64; mb < 104; mb++) {
    const res = await request(`${url}/v1/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-alga-tenant': 't1', 'x-alga-extension': 'e1' },
      body: JSON.stringify({
        context: { tenant_id: 't1', extension_id: 'e1', content_hash: probe.contentHash },
        http: { method: 'GET', path: '/counter' },
        limits: { memory_mb: mb },
      }),
    });
    const env = (await res.body.json()) as { status: number; error: string | null };
    assert.equal(env.status, 200, `memory_mb ${mb}: ${env.error}`);
  }
  assert.ok(probe.runner.stats().compiledVariants <= 2, `${probe.runner.stats().compiledVariants} variants`);
  assert.deepEqual([1, 63, 64, 65, 100, 128, 129, 256, 257, 5000].map(quantizeMemoryMb), [1, 64, 64, 128, 128, 128, 256, 256, 512, 4096]);
});
