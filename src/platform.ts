/**
 * The composition root: one process holding the platform (Postgres, registry, scheduler service,
 * gateway) and the runner, wired through their ports. The CLI and the tests both start here.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type pg from 'pg';
import { createRunner, type Runner } from './host/runner.js';
import type { SchedulerBackend } from './host/ports.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createPool, migrate } from './server/db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './server/db/embedded.js';
import { createHttpServer, listen, type Route } from './server/http/app.js';
import { sendJson } from './server/http/http-error.js';
import { GATEWAY_PREFIX, handleGateway } from './server/http/gateway.js';
import { findInstall, installExtension, loadBundle, registerExtension } from './server/registry/registry.js';
import { createPostgresJobEngine, type JobEngine } from './server/scheduler/job-engine.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './server/scheduler/metrics.js';
import { createSchedulerService } from './server/scheduler/service.js';
import { createRateLimiter } from './server/scheduler/rate-limit.js';
import { handleSchedulerOperation } from './server/internal-api/scheduler-operation.js';
import { loadExtensionDir, type LoadedExtension } from './dev/extension-dir.js';

export interface PlatformOptions {
  /** Project-local data (Postgres cluster, caches); default `$ALGA_DATA_DIR` or `./.alga`. */
  dataDir?: string;
  /** Build and transpile caches; default `<dataDir>/cache` (safe to share between processes). */
  cacheDir?: string;
  /** Use this PostgreSQL instead of the embedded one (default `$DATABASE_URL`). */
  databaseUrl?: string;
  /** HTTP port; 0 picks a free one; undefined starts no HTTP server. */
  port?: number;
  host?: string;
  /** Tenant of gateway requests without an `x-alga-tenant` header. */
  tenantId?: string;
  logger?: Logger;
  jobs?: JobEngine;
  /** Said while slow steps run (Postgres start, component build, transpile). */
  onProgress?: (msg: string) => void;
}

export interface Platform {
  pool: pg.Pool;
  runner: Runner;
  logger: Logger;
  dataDir: string;
  tenantId: string;
  /** Base URL of the HTTP server, when one was started. */
  url?: string;
  /** Builds (or reuses) an extension folder's component, registers it and installs it for a tenant. */
  installDir(dir: string, o?: { tenantId?: string; grant?: string[] }): Promise<InstalledExtension>;
  stop(): Promise<void>;
}

export interface InstalledExtension {
  extension: LoadedExtension;
  installId: string;
  registryId: string;
  versionId: string;
  contentHash: string;
  tenantId: string;
}

export function defaultDataDir(): string {
  return resolve(process.env.ALGA_DATA_DIR ?? '.alga');
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
  const logger = opts.logger ?? createLogger({ level: 'info' });
  const progress = opts.onProgress ?? (() => {});
  const dataDir = resolve(opts.dataDir ?? defaultDataDir());
  const cacheDir = resolve(opts.cacheDir ?? join(dataDir, 'cache'));
  mkdirSync(cacheDir, { recursive: true });
  const tenantId = opts.tenantId ?? 'local';

  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
  if (!databaseUrl) {
    progress(`starting embedded PostgreSQL (data in ${join(dataDir, 'pg')})`);
    embedded = await startEmbeddedPostgres({ dataDir, onLog: (l) => logger.debug(l, { source: 'postgres' }) });
    databaseUrl = embedded.url;
  }
  const pool = createPool(databaseUrl);
  const cleanup: (() => Promise<unknown>)[] = [async () => pool.end(), async () => embedded?.stop()];
  try {
    progress('applying database migrations');
    await migrate(pool);

    const service = createSchedulerService({ pool, jobs: opts.jobs ?? createPostgresJobEngine(), logger });
    const schedulerDeps = { service, rateLimiter: createRateLimiter({ pool }), logger };
    // In-process shape: the runner's scheduler calls go straight to the internal API's core,
    // the same function the HTTP route serves, so both shapes answer alike.
    const scheduler: SchedulerBackend = {
      call: async (installId, request) => handleSchedulerOperation(schedulerDeps, installId, request),
    };
    const runner = createRunner({
      cacheDir,
      components: { load: ({ contentHash }) => loadBundle(pool, contentHash) },
      services: { scheduler, egressAllowlist: (process.env.EXT_EGRESS_ALLOWLIST ?? '').split(',').filter(Boolean) },
      logger,
      onProgress: progress,
    });
    cleanup.unshift(() => runner.close());

    let server: Server | undefined;
    let url: string | undefined;
    if (opts.port !== undefined) {
      const routes: Route[] = [
        { method: 'GET', path: '/healthz', handle: async (_q, res) => sendJson(res, 200, { ok: true }) },
        {
          method: 'GET',
          path: '/metrics',
          handle: async (_q, res) => {
            const text = await renderMetrics();
            res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
            res.end(text);
          },
        },
        { path: GATEWAY_PREFIX, handle: (req, res, u) => handleGateway({ pool, runner, defaultTenant: tenantId }, req, res, u) },
      ];
      server = createHttpServer(routes, logger);
      const host = opts.host ?? '127.0.0.1';
      const port = await listen(server, opts.port, host);
      url = `http://${host}:${port}`;
      const s = server;
      cleanup.unshift(() => new Promise((r) => s.close(() => r(undefined))));
      s.closeIdleConnections?.();
    }

    const platform: Platform = {
      pool,
      runner,
      logger,
      dataDir,
      tenantId,
      url,
      async installDir(dir, o = {}) {
        const extension = await loadExtensionDir(dir, { cacheDir, onProgress: progress });
        const reg = await registerExtension(pool, extension.manifest, extension.component);
        const tenant = o.tenantId ?? tenantId;
        const { installId } = await installExtension(pool, {
          tenantId: tenant,
          registryId: reg.registryId,
          versionId: reg.versionId,
          grantedCaps: extension.manifest.capabilities,
          capabilitiesOverride: o.grant ?? null,
        });
        // Warm the transpile cache now, so the first request does not pay for it.
        const install = await findInstall(pool, tenant, reg.registryId);
        if (install) await runner.warm(install.contentHash, tenant, reg.registryId);
        return { extension, installId, ...reg, tenantId: tenant };
      },
      async stop() {
        for (const c of cleanup.splice(0)) await c().catch(() => {});
      },
    };
    return platform;
  } catch (err) {
    for (const c of cleanup.splice(0)) await c().catch(() => {});
    throw err;
  }
}
