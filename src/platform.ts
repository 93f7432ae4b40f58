/**
 * The composition root of the platform: Postgres, registry, scheduler service, gateway and internal
 * API, plus the runner — in this process (`in-process`), or as a separate runner process talking
 * HTTP both ways (`split`, production's shape). The CLI and the tests both start here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { createRunner, type Runner } from './host/runner.js';
import { sandboxesNotReady } from './host/sandbox/readiness.js';
import type { PlatformApiBackend, SchedulerBackend, StorageBackend, WorkerIoSpec } from './host/ports.js';
import { runnerRoutes } from './host/http/runner-service.js';
import { childEnv, loadConfig, runnerServices, type Config } from './config.js';
import type { ExecuteClient } from './shared/execute-envelope.js';
import { sendJson } from './shared/http-error.js';
import { createHttpServer, listen, type Route } from './shared/http-server.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createPool, migrate } from './server/db/database.js';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './server/db/embedded.js';
import { GATEWAY_PREFIX, handleGateway, type GatewayOptions } from './server/http/gateway.js';
import { internalApiRoutes } from './server/http/internal-api.js';
import { storageApiRoutes } from './server/http/storage-route.js';
import { extensionUpdateRoutes } from './server/http/extension-update.js';
import { createHttpRunnerClient } from './server/http/runner-client.js';
import { EMPTY_PLATFORM_DATA, type PlatformData } from './server/platform-data/platform-data.js';
import { platformBackends, platformWorkerIoSpec } from './platform-worker-io.js';
import { findInstall, installedVersionId, installExtension, registerExtension, storeBundleBlob } from './server/registry/registry.js';
import { contentHashOf } from './shared/content-hash.js';
import { loadBundle } from './server/registry/registry.js';
import { adminScheduleRoutes } from './server/execution/admin-routes.js';
import { invoicesRoutes } from './server/http/invoices-route.js';
import { clockOffsetMs, systemClock, type Clock } from './server/execution/clock.js';
import { startScheduleExecution, type ExecutionOptions, type ScheduleExecution } from './server/execution/index.js';
import { createPostgresJobEngine, type JobEngine } from './server/scheduler/job-engine.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './server/scheduler/metrics.js';
import type { SchedulerService } from './server/scheduler/service.js';
import { updateInstallVersion } from './server/registry/version-update.js';
import { buildExtensionDir, PROJECT_ROOT, type BuildExtensionOptions, type LoadedExtension } from './dev/extension-dir.js';

export type PlatformShape = 'in-process' | 'split';

export interface PlatformOptions {
  /** More routes on the HTTP server (`dev`'s dashboard), matched after the platform's own. */
  routes?: Route[];
  /** `dev`: a gateway request of a tenant without an install installs the extension for it, as
   * the last `installLoaded` of that extension did (same component and grants). */
  installOnDemand?: boolean;
  /** `dev`: sees each gateway request as it goes to the runner (the dashboard's replay). */
  onGatewayRequest?: GatewayOptions['onRequest'];
  /** `/readyz` answers 503 with this reason until `markReady()` (`dev`: while it installs its extension). */
  notReadyUntilMarked?: string;
  /** Validated environment (`loadConfig()`, read here when not given); the options below win over it. */
  config?: Config;
  /** Project-local data (Postgres cluster, caches); default `$ALGA_DATA_DIR` or `./.alga`. */
  dataDir?: string;
  /** Build and transpile caches; default `<dataDir>/cache` (safe to share between processes). */
  cacheDir?: string;
  /** Use this PostgreSQL instead of the embedded one (default `$DATABASE_URL`). */
  databaseUrl?: string;
  /** HTTP port; 0 picks a free one; undefined starts no HTTP server (in-process only). */
  port?: number;
  host?: string;
  /** Tenant of gateway requests without an `x-alga-tenant` header. */
  tenantId?: string;
  /** `split` runs the runner as a child process (`alga-runner serve --role runner`) over HTTP. */
  shape?: PlatformShape;
  /** Use a runner that is already running elsewhere (`RUNNER_BASE_URL`) instead of starting one. */
  runnerUrl?: string;
  /** Shared runner↔server token; default from the environment, or a random one for a spawned runner. */
  runnerToken?: string;
  /** Also serve `/v1/execute` on this server (the in-process runner as a service). */
  serveExecute?: boolean;
  logger?: Logger;
  jobs?: JobEngine;
  /**
   * Schedule execution (dispatcher + invocation worker + admin routes). On by default when an HTTP
   * server is started (`dev`, `serve`), off otherwise (`exec`); `ALGA_SCHEDULE_EXECUTION=off` turns
   * the default off. `clock` also drives validation, next-occurrence computation and (in-process)
   * the guest's wall clock.
   */
  execution?: ExecutionOptions;
  /** Guards /api/admin/…; default `$ALGA_ADMIN_TOKEN`. Without one, loopback callers only. */
  adminToken?: string;
  /** The local platform's clients and services (`--platform-data`); default an empty platform. */
  platformData?: PlatformData;
  /** Said while slow steps run (Postgres start, component build, transpile). */
  onProgress?: (msg: string) => void;
  /**
   * In-process only: use this runner instead of creating one; the caller owns it (stop() leaves it
   * running). The test kit shares one per process, routing host calls by install id (`backends`).
   */
  runner?: Runner;
}

export interface Platform {
  pool: pg.Pool;
  /** How the platform reaches the runner. */
  runner: ExecuteClient;
  logger: Logger;
  dataDir: string;
  tenantId: string;
  shape: PlatformShape;
  /** Base URL of the HTTP server, when one was started. */
  url?: string;
  /** Base URL of the runner service, in the split shape. */
  runnerUrl?: string;
  /** The clock schedules run on (a manual one in tests). */
  clock: Clock;
  /** Schedule execution, when enabled. */
  execution?: ScheduleExecution;
  /** The scheduler host API's service (what the guest's scheduler calls reach). */
  scheduler: SchedulerService;
  /** Build and transpile caches. */
  cacheDir: string;
  /** In-process: the platform's side of the runner's ports, as the runner calls them. */
  backends?: { scheduler: SchedulerBackend; storage: StorageBackend; platformApi: PlatformApiBackend };
  /** In-process: how a sandbox worker builds the same backends in its own thread (the JSPI path);
   * undefined when a part of them cannot be rebuilt there (an injected job engine). */
  workerIo?: WorkerIoSpec;
  /** Builds (or reuses) an extension folder's component, registers it and installs it for a tenant. */
  installDir(dir: string, o?: InstallOptions & Pick<BuildExtensionOptions, 'build' | 'onOutput'>): Promise<InstalledExtension>;
  /**
   * Stores a component's bytes (no version serves them yet) and, with the in-process runner,
   * transpiles, compiles and instantiates it, so a component jco cannot read fails here, before
   * anything serves it. Returns jco's glue when it was transpiled here.
   */
  prepareComponent(component: Uint8Array, extensionId: string): Promise<{ contentHash: string; glue?: string }>;
  /** Registers an already built extension folder's component and installs it for a tenant. */
  installLoaded(extension: LoadedExtension, o?: InstallOptions): Promise<InstalledExtension>;
  /** Ends `notReadyUntilMarked`. */
  markReady(): void;
  stop(): Promise<void>;
}

/** A new manifest version drops endpoints that schedules use: the update's 409 SCHEDULE_REMAP_FAILED. */
export class ScheduleRemapRefused extends Error {
  override name = 'ScheduleRemapRefused';
  readonly code = 'SCHEDULE_REMAP_FAILED';
  constructor(
    readonly reason: string,
    readonly missing: { scheduleId: string; method: string; path: string }[],
  ) {
    const list = missing.map((m) => `${m.method} ${m.path} (schedule ${m.scheduleId})`).join(', ');
    super(`${reason}: ${list}. Restore those endpoints, or pass --disable-missing-schedules to disable the schedules.`);
  }
}

export interface InstallOptions {
  tenantId?: string;
  grant?: string[];
  disableMissingSchedules?: boolean;
}

export interface InstalledExtension {
  extension: LoadedExtension;
  installId: string;
  registryId: string;
  versionId: string;
  contentHash: string;
  tenantId: string;
}

const CLI = join(PROJECT_ROOT, 'bin', 'alga-runner.js');

/** SIGTERM, and SIGKILL when it has not exited within 5 s: stop() never hangs on a stuck child. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The runner-side settings of `config` as the variables a runner process reads. */
function runnerSettingsEnv(config: Config): Record<string, string> {
  return {
    EXT_EGRESS_ALLOWLIST: config.egressAllowlist.join(','),
    UI_PROXY_BASE_URL: config.uiProxy.baseUrl ?? '',
    UI_PROXY_TIMEOUT_MS: String(config.uiProxy.timeoutMs),
    ALGA_FETCH_MAX_BYTES: String(config.fetchMaxBytes),
    ALGA_EXECUTE_MAX_TIMEOUT_MS: String(config.executeMaxTimeoutMs),
    VAULT_ADDR: config.vault.addr ?? '',
    ALGA_VAULT_ADDR: '',
    ALGA_VAULT_TOKEN_FILE: config.vault.tokenFile,
    ALGA_VAULT_TRANSIT_MOUNT: config.vault.mount ?? '',
    VAULT_NAMESPACE: config.vault.namespace ?? '',
  };
}

/** Starts `alga-runner serve --role runner` and waits for its health check. */
async function spawnRunner(o: { port: number; callbackBase: string; token: string; apiKey: string; dataDir: string; logger: Logger; config: Config }): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--role', 'runner', '--port', String(o.port), '--data-dir', o.dataDir], {
    env: childEnv({
      STORAGE_API_BASE_URL: o.callbackBase,
      RUNNER_SERVICE_TOKEN: o.token,
      RUNNER_STORAGE_API_TOKEN: o.token,
      ALGA_RUNNER_API_KEY: o.apiKey,
      DATABASE_URL: '',
      // The runner's own settings, as this platform was given them (the in-process runner's).
      ...runnerSettingsEnv(o.config),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => o.logger.debug(d.toString().trimEnd(), { source: 'runner' }));
  child.stderr!.on('data', (d: Buffer) => o.logger.info(d.toString().trimEnd(), { source: 'runner' }));
  const url = `http://127.0.0.1:${o.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`runner process exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return { url, child };
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error('runner process did not become healthy within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Why the platform cannot take requests now, or undefined when it can. */
async function notReadyReason(pool: pg.Pool, runner: Runner | undefined): Promise<string | undefined> {
  const client = await pool.connect().catch((e: Error) => e);
  if (client instanceof Error) return `database unreachable: ${client.message}`;
  try {
    await client.query('SELECT 1');
    client.release();
  } catch (e) {
    client.release(true); // a broken connection leaves the pool
    return `database unreachable: ${(e as Error).message}`;
  }
  return sandboxesNotReady(runner?.stats());
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
  const config = opts.config ?? loadConfig();
  let pendingReason = opts.notReadyUntilMarked;
  const logger = opts.logger ?? createLogger({ level: 'info' });
  const progress = opts.onProgress ?? (() => {});
  const dataDir = resolve(opts.dataDir ?? config.dataDir);
  const cacheDir = resolve(opts.cacheDir ?? join(dataDir, 'cache'));
  mkdirSync(cacheDir, { recursive: true });
  const tenantId = opts.tenantId ?? 'local';
  const shape: PlatformShape = opts.shape ?? (opts.runnerUrl ? 'split' : 'in-process');
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const c of cleanup.splice(0)) await c().catch(() => {});
  };

  try {
    let embedded: EmbeddedPostgresHandle | undefined;
    let databaseUrl = opts.databaseUrl ?? config.databaseUrl;
    if (!databaseUrl) {
      progress(`starting embedded PostgreSQL (data in ${join(dataDir, 'pg')})`);
      const tail: string[] = [];
      try {
        embedded = await startEmbeddedPostgres({
          dataDir,
          onLog: (l) => {
            tail.push(...l.split('\n'));
            tail.splice(0, Math.max(0, tail.length - 15));
            logger.debug(l, { source: 'postgres' });
          },
        });
      } catch (e) {
        const shown = tail.filter((l) => l.trim()).map((l) => `  | ${l}`).join('\n');
        const why = e instanceof Error ? e.message : e === undefined ? 'it exited' : String(e);
        throw new Error(`PostgreSQL failed to start (data in ${join(dataDir, 'pg')}): ${why}${shown ? `\nlast lines of its log:\n${shown}` : ''}`);
      }
      databaseUrl = embedded.url;
      const e = embedded;
      cleanup.unshift(() => e.stop());
    }
    const pool = createPool(databaseUrl);
    cleanup.unshift(() => pool.end());
    progress('applying database migrations');
    await migrate(pool);

    const clock = opts.execution?.clock ?? systemClock;
    const jobs = opts.jobs ?? createPostgresJobEngine({ clock });
    const platformData = opts.platformData ?? EMPTY_PLATFORM_DATA;
    const cores = platformBackends({ pool, jobs, data: platformData, logger, now: () => clock.now() });
    const { scheduler: schedulerDeps, storage: storageDeps, platformApi: platformDeps } = cores.deps;
    const service = schedulerDeps.service;
    const token = opts.runnerToken ?? config.runnerToken ?? (shape === 'split' && !opts.runnerUrl ? randomBytes(24).toString('hex') : undefined);
    // A runner we spawn always requires a key (a random one unless configured): its port is open.
    const runnerApiKey = config.runnerApiKey ?? (shape === 'split' && !opts.runnerUrl ? randomBytes(24).toString('hex') : undefined);

    let port = opts.port;
    if (shape === 'split' && port === undefined) port = 0;
    if (shape === 'split' && !opts.runnerUrl && port === 0) port = await freePort(); // the runner must know it before we listen

    let runner: ExecuteClient;
    let inProcess: Runner | undefined;
    let runnerUrl: string | undefined;
    let backends: Platform['backends'];
    let workerIo: WorkerIoSpec | undefined;
    if (shape === 'in-process') {
      // The runner's calls go straight to the internal API's cores, the functions the HTTP routes
      // serve, so both shapes answer alike.
      const { scheduler, storage, platformApi } = cores;
      backends = { scheduler, storage, platformApi };
      // A sandbox worker rebuilds these from data (the clock comes per execution). An injected job
      // engine is code, which cannot cross into a thread: such a platform's runner keeps the bridge.
      const spec = opts.jobs ? undefined : platformWorkerIoSpec({ databaseUrl, platformData, settings: runnerServices(config) });
      workerIo = spec;
      inProcess = opts.runner ?? createRunner({
        cacheDir,
        components: { load: ({ contentHash }) => loadBundle(pool, contentHash) },
        services: { scheduler, storage, platformApi, ...runnerServices(config) },
        vault: config.vault,
        maxTimeoutMs: config.executeMaxTimeoutMs,
        logger,
        onProgress: progress,
        // The guest's wasi:clocks read the platform clock (a manual one in tests). The split shape's
        // runner is another process and reads the wall clock.
        clockOffsetMs: () => clockOffsetMs(clock),
        workerIo: spec && (() => spec),
      });
      const r = inProcess;
      if (!opts.runner) cleanup.unshift(() => r.close());
      runner = inProcess;
    } else {
      runnerUrl = opts.runnerUrl;
      if (!runnerUrl) {
        progress('starting the runner as its own process (split shape)');
        const spawned = await spawnRunner({ port: await freePort(), callbackBase: `http://127.0.0.1:${port}`, token: token!, apiKey: runnerApiKey!, dataDir, logger, config });
        runnerUrl = spawned.url;
        cleanup.unshift(async () => {
          await stopChild(spawned.child);
        });
      }
      const client = createHttpRunnerClient({ baseUrl: runnerUrl, apiKey: runnerApiKey });
      cleanup.unshift(() => client.close());
      runner = client;
    }

    let execution: ScheduleExecution | undefined;
    const executionDefault = port !== undefined && config.scheduleExecution;
    if (opts.execution?.enabled ?? executionDefault) {
      progress('starting schedule execution (dispatcher and invocation worker)');
      const started = await startScheduleExecution({
        databaseUrl,
        pool,
        runner,
        logger,
        options: {
          ...opts.execution,
          timeoutMs: opts.execution?.timeoutMs ?? config.execution.timeoutMs,
          maxResponseBytes: opts.execution?.maxResponseBytes ?? config.execution.maxResponseBytes,
          clock,
        },
      });
      execution = started;
      cleanup.unshift(() => started.stop());
    }

    let url: string | undefined;
    if (port !== undefined) {
      const adminToken = opts.adminToken ?? config.adminToken;
      const production = config.production;
      const routes: Route[] = [
        { method: 'GET', path: '/healthz', handle: async (_q, res) => sendJson(res, 200, { ok: true }) },
        // Readiness (liveness stays /healthz): Postgres answers, and not every sandbox is busy with
        // one of them past its execution deadline.
        {
          method: 'GET',
          path: '/readyz',
          handle: async (_q, res) => {
            const reason = pendingReason ?? (await notReadyReason(pool, inProcess));
            if (reason) sendJson(res, 503, { ready: false, reason }, { 'retry-after': '5' });
            else sendJson(res, 200, { ready: true });
          },
        },
        {
          method: 'GET',
          path: '/metrics',
          handle: async (_q, res) => {
            const text = await renderMetrics();
            res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
            res.end(text);
          },
        },
        { path: GATEWAY_PREFIX, handle: (req, res, u) => handleGateway({ pool, runner, defaultTenant: tenantId, logger, timeoutMs: config.execution.timeoutMs, installOnDemand: opts.installOnDemand ? installOnDemand : undefined, onRequest: opts.onGatewayRequest }, req, res, u) },
        ...internalApiRoutes({ pool, scheduler: schedulerDeps, token, production, platformApi: platformDeps }),
        ...storageApiRoutes({ storage: storageDeps, token, production }),
        ...extensionUpdateRoutes({ pool, jobs, defaultTenant: tenantId, token: adminToken, production }),
      ];
      if (execution) routes.push(...adminScheduleRoutes({ admin: execution.admin, token: adminToken, production }));
      routes.push(...invoicesRoutes({ pool, token: adminToken, production }));
      if (opts.serveExecute && inProcess) routes.push(...runnerRoutes({ runner: inProcess, cacheDir, apiKey: config.runnerApiKey }));
      routes.push(...(opts.routes ?? []));
      const server: Server = createHttpServer(routes, logger);
      const host = opts.host ?? '127.0.0.1';
      const bound = await listen(server, port, host);
      url = `http://${host}:${bound}`;
      cleanup.unshift(async () => {
        await new Promise((r) => {
          server.close(() => r(undefined));
          server.closeAllConnections?.();
        });
      });
    }

    // The last install of each extension (by lowercase name and registry id), for installOnDemand.
    const lastInstalled = new Map<string, { extension: LoadedExtension; o: InstallOptions }>();
    async function installOnDemand(tenant: string, extension: string): Promise<boolean> {
      const last = lastInstalled.get(extension.toLowerCase());
      if (!last) return false;
      const r = await platform.installLoaded(last.extension, { ...last.o, tenantId: tenant });
      logger.info(`installed ${last.extension.manifest.name} for tenant "${tenant}" on its first request`, { tenant, install_id: r.installId });
      return true;
    }

    const platform: Platform = {
      pool,
      runner,
      logger,
      dataDir,
      tenantId,
      shape,
      url,
      runnerUrl,
      clock,
      execution,
      scheduler: service,
      cacheDir,
      backends,
      workerIo,
      async installDir(dir, o = {}) {
        const extension = await buildExtensionDir(dir, { cacheDir, onProgress: progress, build: o.build, onOutput: o.onOutput });
        return platform.installLoaded(extension, o);
      },
      async prepareComponent(component, extensionId) {
        const contentHash = contentHashOf(component);
        await storeBundleBlob(pool, contentHash, component);
        if (!inProcess) return { contentHash };
        const { glueDir } = await inProcess.warm(contentHash, tenantId, extensionId);
        return { contentHash, glue: readFileSync(join(glueDir, 'component.js'), 'utf8') };
      },
      async installLoaded(extension, o = {}) {
        const reg = await registerExtension(pool, extension.manifest, extension.component);
        const tenant = o.tenantId ?? tenantId;
        // A new manifest version moves the install's schedules along by (METHOD, path), as
        // production's update does; a schedule whose endpoint is gone blocks it unless disabled.
        const installedVersion = await installedVersionId(pool, tenant, reg.registryId);
        if (installedVersion && installedVersion !== reg.versionId) {
          const moved = await updateInstallVersion(pool, jobs, {
            tenantId: tenant,
            registryId: reg.registryId,
            version: reg.versionId,
            disableMissingSchedules: o.disableMissingSchedules,
          });
          if (!moved.success && moved.code === 'SCHEDULE_REMAP_FAILED') throw new ScheduleRemapRefused(moved.message, moved.missing);
          if (moved.success && moved.disabled.length) {
            logger.warn('schedules disabled: their endpoints are gone in the new version', { schedules: moved.disabled.map((m) => m.scheduleId) });
          }
        }
        const { installId } = await installExtension(pool, {
          tenantId: tenant,
          registryId: reg.registryId,
          versionId: reg.versionId,
          grantedCaps: extension.manifest.capabilities,
          capabilitiesOverride: o.grant ?? null,
        });
        // Transpile and compile now, so the first request does not pay for it.
        if (inProcess) {
          const install = await findInstall(pool, tenant, reg.registryId);
          if (install) await inProcess.warm(install.contentHash, tenant, reg.registryId);
        }
        const remembered = { extension, o: { grant: o.grant, disableMissingSchedules: o.disableMissingSchedules } };
        lastInstalled.set(extension.manifest.name.toLowerCase(), remembered);
        lastInstalled.set(reg.registryId, remembered);
        return { extension, installId, ...reg, tenantId: tenant };
      },
      markReady: () => {
        pendingReason = undefined;
      },
      stop: stopAll,
    };
    return platform;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
