/**
 * storage `get` and `put` from inside a component (the probe, through the runner as the platform runs
 * it in-process) vs the same operation on the storage service directly vs the internal API core vs one
 * raw Postgres round trip, in one run. Also counts the Postgres round trips of each operation.
 * Targets: ≤ 2 round trips per put; component ÷ service ≤ 1.5.
 *
 *   npm run build && node dist/bench/storage.js [--iterations 1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/dev/extension-dir.js';
import { median, roundTripsOf } from './support.js';
import { createImportDispatch } from '../src/host/import-dispatch.js';
import type { StorageReply, StorageRequest } from '../src/host/ports.js';
import type { ExecutionContext } from '../src/host/interfaces/types.js';
import { createRunner } from '../src/host/runner.js';
import { startPlatform } from '../src/platform.js';
import { buildExecuteCall } from '../src/server/execute-request.js';
import { handleStorageOperation } from '../src/server/internal-api/storage-operation.js';
import { findInstall, loadBundle } from '../src/server/registry/registry.js';
import { createStorageService, type StorageService } from '../src/server/storage/service.js';
import { createLogger, silentLogger } from '../src/shared/logger.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '1000' } } });
// --iterations N: N calls of each variant in all (rounds of 40).
const N = Number(values.iterations);

const dataDir = mkdtempSync(join(tmpdir(), 'alga-bench-storage-'));
const platform = await startPlatform({ dataDir, cacheDir: join(PROJECT_ROOT, '.alga', 'cache'), logger: silentLogger });
try {
  const pool = platform.pool;
  const probeInst = await platform.installDir(join(PROJECT_ROOT, 'components', 'scheduler-probe'));
  const install = (await findInstall(pool, probeInst.tenantId, probeInst.registryId))!;
  const service = createStorageService({ pool });
  const deps = { service, logger: silentLogger };
  // The runner logs, per execution, how long the guest waited at its imports (`host_call_ms`, the
  // bridge + host work) and how many calls it made: the per-call wait as the guest sees it.
  let waited = { calls: 0, ms: 0 };
  const runner = createRunner({
    cacheDir: join(PROJECT_ROOT, '.alga', 'cache'),
    components: { load: ({ contentHash }) => loadBundle(pool, contentHash) },
    services: {
      storage: { call: (installId, request, signal) => (installId === rawInstall.installId ? rawBackend(request) : handleStorageOperation(deps, installId, request, signal)) },
    },
    // The main install's calls run as the platform's would: in the sandbox worker on the JSPI path
    // (the platform's worker services), over the bridge otherwise. The other two installs answer
    // through this runner's own services on the main thread (the bridge), as their names say.
    workerIo: (context) => (context.installId === install.installId ? platform.workerIo : undefined),
    logger: createLogger({
      level: 'info',
      write: (line) => {
        const o = JSON.parse(line) as { msg?: string; host_calls?: number; host_call_ms?: number };
        if (o.msg === 'execute done' && o.host_calls) waited = { calls: o.host_calls, ms: o.host_call_ms ?? 0 };
      },
    }),
  });
  // The same probe installed without cap:storage.kv: its storage calls are answered `denied` on the
  // main thread with no I/O, so they time the bridge and the probe's own work alone.
  const bare = await platform.installDir(join(PROJECT_ROOT, 'components', 'scheduler-probe'), { tenantId: 'bench-no-storage', grant: ['cap:log.emit'] });
  const bareInstall = (await findInstall(pool, bare.tenantId, bare.registryId))!;
  // And installed once more with its storage answered by one raw SQL round trip instead of our storage
  // path (`rawBackend`): the bridge with Postgres I/O behind it, so that (guest − this) is what our
  // storage path adds inside a component, and (this − raw SQL) what the bridge costs with I/O.
  const rawProbe = await platform.installDir(join(PROJECT_ROOT, 'components', 'scheduler-probe'), { tenantId: 'bench-raw-storage', grant: ['cap:storage.kv'] });
  const rawInstall = (await findInstall(pool, rawProbe.tenantId, rawProbe.registryId))!;
  // One round trip each, the rows of the main install (the get reads what the service stored).
  async function rawBackend(request: StorageRequest): Promise<StorageReply> {
    if (request.operation === 'get') {
      const r = await pool.query(
        `SELECT namespace, key, value, metadata, revision FROM ext_storage_records WHERE tenant = $1 AND extension_install_id = $2 AND namespace = $3 AND key = $4`,
        [install.tenantId, install.installId, request.namespace, request.key],
      );
      const row = r.rows[0];
      return row ? { status: 200, body: { ...row, revision: Number(row.revision) } } : { status: 404, body: { error: 'Not found', code: 'NOT_FOUND' } };
    }
    if (request.operation === 'put') {
      const r = await pool.query(
        `INSERT INTO ext_storage_records (tenant, extension_install_id, namespace, key, value, value_size_bytes) VALUES ($1, $2, 'raw', $3, $4, 10)
         ON CONFLICT (tenant, extension_install_id, namespace, key) DO UPDATE SET value = EXCLUDED.value, revision = ext_storage_records.revision + 1 RETURNING revision`,
        [install.tenantId, install.installId, request.key, JSON.stringify(request.value)],
      );
      return { status: 200, body: { revision: Number(r.rows[0].revision) } };
    }
    return { status: 400, body: { error: 'raw backend: get and put only' } };
  }
  const probe = async (calls: unknown[], target = install, expect: 'ok' | 'denied' = 'ok') => {
    const c = buildExecuteCall(target, { method: 'POST', path: '/probe', body: new TextEncoder().encode(JSON.stringify({ calls })) });
    const out = await runner.execute(c.headers, c.body);
    if (out.error) throw new Error(out.error);
    const results = JSON.parse(Buffer.from(out.body_b64!, 'base64').toString()).results as { err?: unknown }[];
    const failed = results.find((r) => (expect === 'ok' ? r.err !== undefined : r.err !== 'denied'));
    if (failed) throw new Error(`a storage call answered ${JSON.stringify(failed)}`);
    return results;
  };

  const value = Buffer.alloc(100, 7);
  const b64 = value.toString('base64');
  const wirePut = { operation: 'put', namespace: 'bench', key: 'k', value: b64, metadata: { encoding: 'base64-bytes' } };
  const wireGet = { operation: 'get', namespace: 'bench', key: 'k' };
  await handleStorageOperation(deps, install.installId, wirePut);

  // --- round trips per operation, as a guest's call arrives (route core → service → SQL)
  const putTrips = await roundTripsOf(() => handleStorageOperation(deps, install.installId, wirePut));
  const getTrips = await roundTripsOf(() => handleStorageOperation(deps, install.installId, wireGet));

  // --- every variant in each round, one after another, so that they share the machine's load (a
  // shared 2-core machine swings by ×2 between minutes): per-call means per round, medians over rounds.
  const K = 40;
  const rounds = Math.max(5, Math.floor(N / K));
  const ctx: ExecutionContext = {
    context: { requestId: 'bench', tenantId: install.tenantId, extensionId: install.registryId, installId: install.installId },
    granted: new Set(['cap:storage.kv']),
    logger: silentLogger,
    services: { storage: { call: (installId, request, signal) => handleStorageOperation(deps, installId, request, signal) } },
    guestLogs: [],
  };
  const hostFn = createImportDispatch(ctx);
  const noSignal = new AbortController().signal;
  const putCall = { fn: 'storage.put', args: [{ namespace: 'bench', key: 'k', value: { $bytes: b64 }, revision: null }] };
  const getCall = { fn: 'storage.get', args: ['bench', 'k'] };
  const direct: Record<string, () => Promise<unknown>> = {
    rawPut: () =>
      pool.query(
        `INSERT INTO ext_storage_records (tenant, extension_install_id, namespace, key, value, value_size_bytes) VALUES ($1, $2, 'raw', 'k', $3, 10)
         ON CONFLICT (tenant, extension_install_id, namespace, key) DO UPDATE SET value = EXCLUDED.value, revision = ext_storage_records.revision + 1`,
        [install.tenantId, install.installId, JSON.stringify(b64)],
      ),
    rawGet: () => pool.query(`SELECT * FROM ext_storage_records WHERE tenant = $1 AND extension_install_id = $2 AND namespace = 'bench' AND key = 'k'`, [install.tenantId, install.installId]),
    servicePut: () => service.put(install.installId, 'bench', { key: 'k', value: b64, metadata: { encoding: 'base64-bytes' } }),
    serviceGet: () => service.get(install.installId, 'bench', 'k'),
    corePut: () => handleStorageOperation(deps, install.installId, wirePut),
    coreGet: () => handleStorageOperation(deps, install.installId, wireGet),
    hostPut: () => hostFn('alga:extension/storage', 'put', [{ namespace: 'bench', key: 'k', value: new Uint8Array(value) }], noSignal),
    hostGet: () => hostFn('alga:extension/storage', 'get', ['bench', 'k'], noSignal),
  };
  const inGuest: Record<string, [unknown, typeof install, 'ok' | 'denied']> = {
    guestPut: [putCall, install, 'ok'],
    guestGet: [getCall, install, 'ok'],
    bridgePut: [putCall, bareInstall, 'denied'],
    bridgeGet: [getCall, bareInstall, 'denied'],
    rawGuestPut: [putCall, rawInstall, 'ok'],
    rawGuestGet: [getCall, rawInstall, 'ok'],
  };
  const m: Record<string, number[]> = {};
  const add = (k: string, v: number) => (m[k] ??= []).push(v);
  for (let r = -1; r < rounds; r++) {
    // round -1 warms every path and is not counted
    for (const [name, fn] of Object.entries(direct)) {
      const t = performance.now();
      for (let i = 0; i < K; i++) await fn();
      if (r >= 0) add(name, (performance.now() - t) / K);
    }
    for (const [name, [call, target, expect]] of Object.entries(inGuest)) {
      const t0 = performance.now();
      await probe([], target, expect);
      const empty = performance.now() - t0;
      const t1 = performance.now();
      await probe(Array.from({ length: K }, () => call), target, expect);
      if (r < 0) continue;
      add(name, (performance.now() - t1 - empty) / K);
      add(`${name}Wait`, waited.ms / waited.calls);
    }
  }
  const { rawPut: rawUpsert, rawGet: rawSelect, servicePut, serviceGet, corePut, coreGet, hostPut, hostGet, guestPut, guestGet, bridgePut, bridgeGet, rawGuestPut, rawGuestGet } = m as Record<string, number[]>;
  const waits: Record<string, number[]> = {
    'storage.put ok': m.guestPutWait!, 'storage.get ok': m.guestGetWait!, 'storage.put denied': m.bridgePutWait!, 'storage.get denied': m.bridgeGetWait!,
    'storage.put raw': m.rawGuestPutWait!, 'storage.get raw': m.rawGuestGetWait!,
  };

  // --- our storage path's own CPU per call, without I/O: the host function (dispatch, capability
  // check, WIT mapping, value encoding) over the route core (zod, the reply) over a service answering
  // from memory.
  const stored = await service.get(install.installId, 'bench', 'k');
  const written = await service.put(install.installId, 'bench', { key: 'k', value: b64, metadata: { encoding: 'base64-bytes' } });
  const memory = { get: async () => stored, put: async () => written } as unknown as StorageService;
  const memDeps = { service: memory, logger: silentLogger };
  const memHost = createImportDispatch({ ...ctx, services: { storage: { call: (installId, request, signal) => handleStorageOperation(memDeps, installId, request, signal) } } });
  const cpuOf = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 2_000; i++) await fn();
    const t = performance.now();
    for (let i = 0; i < 20_000; i++) await fn();
    return ((performance.now() - t) / 20_000) * 1000;
  };
  const cpuGet = await cpuOf(() => memHost('alga:extension/storage', 'get', ['bench', 'k'], noSignal));
  const cpuPut = await cpuOf(() => memHost('alga:extension/storage', 'put', [{ namespace: 'bench', key: 'k', value: new Uint8Array(value) }], noSignal));

  const row = (name: string, xs: number[], base: number) => `| ${name} | ${median(xs).toFixed(3)} | ×${(median(xs) / base).toFixed(2)} |`;
  console.log(`medians over ${rounds} rounds of ${K} calls of each variant, interleaved; a 100-byte value`);
  console.log('| put | ms | vs raw upsert |');
  console.log('|---|---|---|');
  const rp = median(rawUpsert);
  console.log(row('raw INSERT … ON CONFLICT round trip', rawUpsert, rp));
  console.log(row('storage service put (direct)', servicePut, rp));
  console.log(row('internal API core (validation + service)', corePut, rp));
  console.log(row('the storage host function, no sandbox (WIT mapping + core)', hostPut, rp));
  console.log(row('from inside the component (bridge + all of the above)', guestPut, rp));
  console.log('| get | ms | vs raw SELECT |');
  console.log('|---|---|---|');
  const rg = median(rawSelect);
  console.log(row('raw SELECT round trip', rawSelect, rg));
  console.log(row('storage service get (direct)', serviceGet, rg));
  console.log(row('internal API core', coreGet, rg));
  console.log(row('the storage host function, no sandbox', hostGet, rg));
  console.log(row('from inside the component', guestGet, rg));
  console.log('| the bridge with one raw round trip behind it (the same calls, storage answered by raw SQL) | ms | vs raw |');
  console.log('|---|---|---|');
  console.log(row('put: component → raw upsert', rawGuestPut, rp));
  console.log(row('get: component → raw SELECT', rawGuestGet, rg));
  const w = (k: string) => median(waits[k]!).toFixed(3);
  console.log(`the guest's wait at the import per call (host_call_ms ÷ host_calls): put ${w('storage.put ok')} ms, get ${w('storage.get ok')} ms; answered denied: put ${w('storage.put denied')} ms, get ${w('storage.get denied')} ms`);
  console.log(`component (the guest's wait) ÷ service: put ${(median(waits['storage.put ok']!) / median(servicePut)).toFixed(2)}, get ${(median(waits['storage.get ok']!) / median(serviceGet)).toFixed(2)}`);
  console.log(`the bridge and the probe's own work per call (the same calls answered \`denied\` with no I/O): put ${median(bridgePut).toFixed(3)} ms, get ${median(bridgeGet).toFixed(3)} ms`);
  const path = runner.stats();
  console.log(`the main install's path: ${path.sandboxPath} (JSPI glue ${path.jspiGlue ? "loaded" : "not loaded"}; ${path.bridgedHostCalls} host calls of the whole run answered on the main thread)`);
  console.log(`component ÷ service: put ${(median(guestPut) / median(servicePut)).toFixed(2)}, get ${(median(guestGet) / median(serviceGet)).toFixed(2)} (target ≤ 1.5)`);
  // The bridge's cost with Postgres I/O behind it is (component → raw) − raw; what remains of a
  // component's call is our storage path (WIT mapping, capability check, route core, service).
  const bridgeIo = (guestRaw: number[], raw: number[]) => median(guestRaw) - median(raw);
  const pb = bridgeIo(rawGuestPut, rawUpsert);
  const gb = bridgeIo(rawGuestGet, rawSelect);
  console.log(`the bridge with I/O behind it (component → raw − raw): put ${pb.toFixed(3)} ms, get ${gb.toFixed(3)} ms`);
  console.log(`component ÷ service with that bridge cost subtracted: put ${((median(guestPut) - pb) / median(servicePut)).toFixed(2)}, get ${((median(guestGet) - gb) / median(serviceGet)).toFixed(2)}`);
  // The same by the guest's own wait at the import (no probe work in it).
  const wpb = median(waits['storage.put raw']!) - median(rawUpsert);
  const wgb = median(waits['storage.get raw']!) - median(rawSelect);
  console.log(`by the guest's wait: component → raw put ${w('storage.put raw')} ms, get ${w('storage.get raw')} ms; bridge with I/O put ${wpb.toFixed(3)} ms, get ${wgb.toFixed(3)} ms; ` +
    `component ÷ service with it subtracted: put ${((median(waits['storage.put ok']!) - wpb) / median(servicePut)).toFixed(2)}, get ${((median(waits['storage.get ok']!) - wgb) / median(serviceGet)).toFixed(2)}`);
  console.log(`our storage path's own CPU per call (host function + route core over a service answering from memory, no I/O): get ${cpuGet.toFixed(1)} µs, put ${cpuPut.toFixed(1)} µs`);
  console.log(`Postgres round trips: put ${putTrips} (target ≤ 2), get ${getTrips}`);
  await runner.close();
} finally {
  await platform.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
