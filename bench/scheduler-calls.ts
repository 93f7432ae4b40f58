/**
 * The scheduler host API from inside a component vs the same operation called on the service
 * directly vs one raw Postgres round trip, in one run: a create, and a list of 50 schedules.
 * Also counts the Postgres round trips each operation makes.
 *
 *   npm run build && node dist/bench/scheduler-calls.js [--iterations 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPlatform } from '../src/platform.js';
import { silentLogger } from '../src/shared/logger.js';
import { findInstall } from '../src/server/registry/registry.js';
import { buildExecuteCall } from '../src/server/execute-request.js';
import { createSchedulerService } from '../src/server/scheduler/service.js';
import { createPostgresJobEngine } from '../src/server/scheduler/job-engine.js';
import { createRunner } from '../src/host/runner.js';
import { loadBundle } from '../src/server/registry/registry.js';
import { createAdmission } from '../src/server/scheduler/rate-limit.js';
import { handleSchedulerOperation } from '../src/server/internal-api/scheduler-operation.js';
import { PROJECT_ROOT } from '../src/dev/extension-dir.js';
import { median, roundTripsOf } from './support.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200' } } });
const N = Number(values.iterations);

const dataDir = mkdtempSync(join(tmpdir(), 'alga-bench-sched-'));
const platform = await startPlatform({ dataDir, cacheDir: join(PROJECT_ROOT, '.alga', 'cache'), logger: silentLogger });
try {
  const pool = platform.pool;
  const probeInst = await platform.installDir(join(PROJECT_ROOT, 'components', 'scheduler-probe'));
  const install = (await findInstall(pool, probeInst.tenantId, probeInst.registryId))!;
  const service = createSchedulerService({ pool, jobs: createPostgresJobEngine(), logger: silentLogger });
  // The rate limit is production's 10/min: lift it here, it is not what is measured.
  const deps = { service, admission: createAdmission({ pool, limit: 1_000_000_000 }), logger: silentLogger };
  const ctx = (await deps.admission.admit(install.installId, false))!.install;
  // A runner whose scheduler calls reach the same unlimited internal API core.
  const runner = createRunner({
    cacheDir: join(PROJECT_ROOT, '.alga', 'cache'),
    components: { load: ({ contentHash }) => loadBundle(pool, contentHash) },
    services: { scheduler: { call: (installId, request) => handleSchedulerOperation(deps, installId, request) } },
    logger: silentLogger,
  });

  const probe = async (calls: unknown[]) => {
    const c = buildExecuteCall(install, { method: 'POST', path: '/probe', body: new TextEncoder().encode(JSON.stringify({ calls })) });
    const out = await runner.execute(c.headers, c.body);
    if (out.error) throw new Error(out.error);
    return JSON.parse(Buffer.from(out.body_b64!, 'base64').toString()).results as unknown[];
  };
  const clear = () => pool.query('DELETE FROM tenant_extension_schedule WHERE install_id = $1', [install.installId]).then(() => pool.query('DELETE FROM jobs'));

  // --- round trips per operation (through the internal API core, as a guest's call arrives)
  await clear();
  const createTrips = await roundTripsOf(() => handleSchedulerOperation(deps, install.installId, { operation: 'create', endpoint: 'GET /echo', cron: '0 3 * * *' }));
  const listTrips = await roundTripsOf(() => handleSchedulerOperation(deps, install.installId, { operation: 'list' }));

  // --- create: K creates inside one execution vs one execution with none → per-call cost in the guest
  const K = 40;
  const rounds = Math.max(3, Math.floor(N / K));
  const inGuest: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await clear();
    const calls = Array.from({ length: K }, (_, i) => ({ fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /echo', cron: `${i % 60} 3 * * *` }] }));
    const t0 = performance.now();
    await probe([]);
    const empty = performance.now() - t0;
    const t1 = performance.now();
    await probe(calls);
    inGuest.push((performance.now() - t1 - empty) / K);
  }
  const direct: number[] = [];
  const viaApi: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await clear();
    for (let i = 0; i < K; i++) {
      const t = performance.now();
      await service.create(ctx, { endpoint: 'GET /echo', cron: `${i % 60} 3 * * *` });
      direct.push(performance.now() - t);
    }
    await clear();
    for (let i = 0; i < K; i++) {
      const t = performance.now();
      await handleSchedulerOperation(deps, install.installId, { operation: 'create', endpoint: 'GET /echo', cron: `${i % 60} 3 * * *` });
      viaApi.push(performance.now() - t);
    }
  }
  const rawInsert: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await pool.query(`INSERT INTO tenant_extension_schedule (install_id, tenant_id, endpoint_id, cron) VALUES ($1, $2, gen_random_uuid(), '0 3 * * *')`, [install.installId, install.tenantId]);
    rawInsert.push(performance.now() - t);
  }

  // --- list of 50
  await clear();
  for (let i = 0; i < 50; i++) await service.create(ctx, { endpoint: 'GET /echo', cron: `${i} 3 * * *` });
  const listGuest: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await probe([]);
    const empty = performance.now() - t0;
    const t1 = performance.now();
    await probe(Array.from({ length: K }, () => ({ fn: 'scheduler.list-schedules' })));
    listGuest.push((performance.now() - t1 - empty) / K);
  }
  const listDirect: number[] = [];
  const listApi: number[] = [];
  const rawSelect: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    await service.listForInstall(install.installId);
    listDirect.push(performance.now() - t);
    t = performance.now();
    await handleSchedulerOperation(deps, install.installId, { operation: 'list' });
    listApi.push(performance.now() - t);
    t = performance.now();
    await pool.query(`SELECT s.*, e.method, e.path FROM tenant_extension_schedule s JOIN extension_api_endpoint e ON e.id = s.endpoint_id WHERE s.install_id = $1 AND s.tenant_id = $2 ORDER BY s.created_at`, [install.installId, install.tenantId]);
    rawSelect.push(performance.now() - t);
  }

  const row = (name: string, xs: number[], base: number) => `| ${name} | ${median(xs).toFixed(3)} | ×${(median(xs) / base).toFixed(2)} |`;
  console.log(`medians over ${N} (direct, raw) and ${rounds}×${K} (in guest) calls`);
  console.log('| create | ms | vs raw INSERT |');
  console.log('|---|---|---|');
  const rawI = median(rawInsert);
  console.log(row('raw INSERT round trip', rawInsert, rawI));
  console.log(row('service.create (direct)', direct, rawI));
  console.log(row('internal API core (install lookup + rate limit + create)', viaApi, rawI));
  console.log(row('from inside the component (bridge + all of the above)', inGuest, rawI));
  console.log('| list of 50 | ms | vs raw SELECT |');
  console.log('|---|---|---|');
  const rawS = median(rawSelect);
  console.log(row('raw SELECT round trip', rawSelect, rawS));
  console.log(row('service.listForInstall (direct)', listDirect, rawS));
  console.log(row('internal API core', listApi, rawS));
  console.log(row('from inside the component', listGuest, rawS));
  console.log(`bridge + WIT lowering per call: create ${(median(inGuest) - median(viaApi)).toFixed(3)} ms, list ${(median(listGuest) - median(listApi)).toFixed(3)} ms`);
  console.log(`Postgres round trips: create ${createTrips} (incl. install lookup and rate limit), list ${listTrips}`);
  await runner.close();
} finally {
  await platform.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
