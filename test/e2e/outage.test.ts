/**
 * Postgres goes away under a running platform: the gateway and the internal API answer 503 with
 * Retry-After (not 500), /readyz says why it is not ready, /healthz (liveness) stays 200.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startPlatform, type Platform } from '../../src/platform.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/server/db/embedded.js';
import { silentLogger } from '../../src/shared/logger.js';
import { projectRoot } from '../support/components.js';

const TOKEN = 'a-runner-token-long-enough-for-the-tests';
let pg: EmbeddedPostgresHandle;
let platform: Platform;
let dataDir: string;
let installId: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'alga-outage-'));
  pg = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  platform = await startPlatform({
    databaseUrl: pg.url,
    dataDir,
    cacheDir: join(projectRoot(), '.alga', 'cache'),
    port: 0,
    runnerToken: TOKEN,
    logger: silentLogger,
    execution: { enabled: false },
  });
  installId = (await platform.installDir(join(projectRoot(), 'components', 'scheduler-probe'))).installId;
});
after(async () => {
  await platform?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

async function get(path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`${platform.url}${path}`, { method: (o.method ?? 'GET') as 'GET', headers: o.headers, body: o.body });
  return { status: res.statusCode, retryAfter: res.headers['retry-after'], json: (await res.body.json()) as Record<string, unknown> };
}

const internalList = () =>
  get(`/api/internal/ext-scheduler/install/${installId}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-runner-auth': TOKEN }, body: '{"operation":"list"}' });

test('with Postgres up: ready, and both routes answer', async () => {
  assert.deepEqual((await get('/readyz')).json, { ready: true });
  assert.equal((await get('/api/ext/com.alga.test.scheduler-probe/counter')).status, 200);
  assert.equal((await internalList()).status, 200);
});

test('with Postgres stopped: 503 + Retry-After on the gateway and the internal API; /readyz says why; /healthz stays 200', async () => {
  await pg.stop();
  const gateway = await get('/api/ext/com.alga.test.scheduler-probe/counter');
  assert.equal(gateway.status, 503, JSON.stringify(gateway.json));
  assert.equal(gateway.retryAfter, '5');
  assert.equal(gateway.json.error, 'service_unavailable');
  const internal = await internalList();
  assert.equal(internal.status, 503, JSON.stringify(internal.json));
  assert.equal(internal.retryAfter, '5');
  assert.equal(internal.json.code, 'SERVICE_UNAVAILABLE');
  const ready = await get('/readyz');
  assert.equal(ready.status, 503);
  assert.match(String(ready.json.reason), /^database unreachable: /);
  assert.equal((await get('/healthz')).status, 200, 'liveness is not readiness');
});
