/**
 * Composition root of the runner role: the runner, its HTTP service, and HTTP clients back to the
 * platform (component bytes, scheduler, storage, clients/services/invoicing callbacks) — production's runner shape.
 */
import { join, resolve } from 'node:path';
import { createRunner, type Runner } from './host/runner.js';
import { createHttpComponentSource } from './host/http/component-client.js';
import { runnerRoutes } from './host/http/runner-service.js';
import { httpBackends, httpWorkerIoSpec } from './host/http/worker-io.js';
import { loadConfig, runnerServices, type Config } from './config.js';
import type { WorkerIoSpec } from './host/ports.js';
import { createHttpServer, listen } from './shared/http-server.js';
import { createLogger, type Logger } from './shared/logger.js';

export interface RunnerServiceOptions {
  port: number;
  host?: string;
  dataDir: string;
  /** Validated environment (`loadConfig()`, read here when not given); the options below win over it. */
  config?: Config;
  /** Defaults from STORAGE_API_BASE_URL / REGISTRY_BASE_URL. */
  callbackBaseUrl?: string;
  /** Defaults from RUNNER_STORAGE_API_TOKEN / RUNNER_SERVICE_TOKEN. */
  token?: string;
  /** Defaults from ALGA_RUNNER_API_KEY; when set, /v1/execute requires it. */
  apiKey?: string;
  logger?: Logger;
  concurrency?: number;
}

export interface RunnerService {
  url: string;
  runner: Runner;
  /** What each execution's sandbox worker builds its services from (the same for every execution). */
  workerIo: WorkerIoSpec;
  stop(): Promise<void>;
}

export async function startRunnerService(opts: RunnerServiceOptions): Promise<RunnerService> {
  const logger = opts.logger ?? createLogger();
  const config = opts.config ?? loadConfig();
  const base = opts.callbackBaseUrl ?? config.callbackBaseUrl;
  const token = opts.token ?? config.runnerToken;
  const cacheDir = join(resolve(opts.dataDir), 'cache');
  const components = createHttpComponentSource({ baseUrl: base, token });
  const backends = httpBackends({ baseUrl: base, token });
  const { scheduler, storage, platformApi } = backends;
  const settings = runnerServices(config);
  // A sandbox worker makes the same calls from its own thread, on its own connections.
  const workerIo = httpWorkerIoSpec({ callbackBase: base, token, settings });
  const runner = createRunner({
    cacheDir,
    components,
    services: { scheduler, storage, platformApi, ...settings },
    workerIo: () => workerIo,
    vault: config.vault,
    maxTimeoutMs: config.executeMaxTimeoutMs,
    logger,
    concurrency: opts.concurrency,
  });
  const server = createHttpServer(runnerRoutes({ runner, cacheDir, apiKey: opts.apiKey ?? config.runnerApiKey }), logger);
  const host = opts.host ?? '127.0.0.1';
  const port = await listen(server, opts.port, host);
  return {
    url: `http://${host}:${port}`,
    runner,
    workerIo,
    async stop() {
      // Stop accepting, drop open connections (an execution in flight is abandoned), then close.
      const closed = new Promise((r) => server.close(() => r(undefined)));
      server.closeAllConnections?.();
      await runner.close();
      await closed;
      await components.close();
      await backends.close();
    },
  };
}
