/**
 * The in-process platform's side of the runner's ports, built alike on the main thread
 * (`startPlatform`) and in a sandbox worker (`createWorkerIo`): on the JSPI path an I/O import runs
 * in the guest's own thread (docs/sandbox.md#services-in-the-sandbox-worker). A worker imports this
 * module by the URL of the spec `platformWorkerIoSpec` makes and builds the same cores, on a small
 * pool of its own on the same database.
 */
import type pg from 'pg';
import type { HostSettings } from './host/interfaces/types.js';
import type { PlatformApiBackend, SchedulerBackend, StorageBackend, WorkerIo, WorkerIoFactory, WorkerIoSpec } from './host/ports.js';
import type { Logger } from './shared/logger.js';
import { createPool } from './server/db/database.js';
import { callPlatformApi, type PlatformApiDeps } from './server/internal-api/platform-operation.js';
import { handleSchedulerOperation, type SchedulerOperationDeps } from './server/internal-api/scheduler-operation.js';
import { handleStorageOperation, type StorageOperationDeps } from './server/internal-api/storage-operation.js';
import type { PlatformData } from './server/platform-data/platform-data.js';
import { createPostgresJobEngine, type JobEngine } from './server/scheduler/job-engine.js';
import { flushSchedulerMetrics, forwardSchedulerMetrics, schedulerMetricsChannel } from './server/scheduler/metrics.js';
import { createAdmission } from './server/scheduler/rate-limit.js';
import { createSchedulerService } from './server/scheduler/service.js';
import { createStorageService } from './server/storage/service.js';

export interface PlatformBackendDeps {
  pool: pg.Pool;
  jobs: JobEngine;
  data: PlatformData;
  logger: Logger;
  /** The platform clock: cron validation, next occurrences, storage TTLs, the default invoice date. */
  now: () => Date;
}

export interface PlatformBackends {
  scheduler: SchedulerBackend;
  storage: StorageBackend;
  platformApi: PlatformApiBackend;
  /** The cores behind them, which the internal API's HTTP routes serve too (both shapes answer alike). */
  deps: { scheduler: SchedulerOperationDeps; storage: StorageOperationDeps; platformApi: PlatformApiDeps };
}

/** The runner's scheduler, storage and platform-API calls, straight to the internal API's cores. */
export function platformBackends(d: PlatformBackendDeps): PlatformBackends {
  const { pool, logger, now } = d;
  const scheduler: SchedulerOperationDeps = { service: createSchedulerService({ pool, jobs: d.jobs, logger, now }), admission: createAdmission({ pool }), logger };
  const storage: StorageOperationDeps = { service: createStorageService({ pool, now }), logger };
  const platformApi: PlatformApiDeps = { pool, data: d.data, logger, now };
  return {
    scheduler: { call: async (installId, request, signal) => handleSchedulerOperation(scheduler, installId, request, signal) },
    storage: { call: (installId, request, signal) => handleStorageOperation(storage, installId, request, signal) },
    platformApi: { call: async (api, installId, body) => ({ kind: 'answer', ...(await callPlatformApi(platformApi, api, installId, body)) }) },
    deps: { scheduler, storage, platformApi },
  };
}

/** Connections of one worker's pool: the platform holds at most sandboxes × specs × this many for its workers. */
export const WORKER_POOL_MAX = 2;
/** An idle worker closes its connections after this long (it holds none between bursts). */
export const WORKER_POOL_IDLE_MS = 5_000;
/** How a worker's connections are named in `pg_stat_activity`. */
export const WORKER_IO_APPLICATION_NAME = 'alga-sandbox-io';

/** What crosses into the worker: plain data only (structured clone). */
export interface PlatformWorkerIoOptions {
  databaseUrl: string;
  platformData: PlatformData;
  settings: HostSettings;
  poolMax: number;
  idleTimeoutMs: number;
  /** Where the worker's scheduler metrics go: the registry of the thread that made the spec. */
  metricsChannel: string;
}

/**
 * The spec of a platform whose every part can be rebuilt from data in another thread. The caller
 * decides whether it can (an injected job engine cannot: see `startPlatform`).
 */
export function platformWorkerIoSpec(o: { databaseUrl: string; platformData: PlatformData; settings: HostSettings; poolMax?: number; idleTimeoutMs?: number }): WorkerIoSpec {
  const options: PlatformWorkerIoOptions = {
    databaseUrl: o.databaseUrl,
    platformData: o.platformData,
    settings: o.settings,
    poolMax: o.poolMax ?? WORKER_POOL_MAX,
    idleTimeoutMs: o.idleTimeoutMs ?? WORKER_POOL_IDLE_MS,
    metricsChannel: schedulerMetricsChannel(),
  };
  return { module: import.meta.url, options };
}

function checkedOptions(options: unknown): PlatformWorkerIoOptions {
  const o = options as Partial<PlatformWorkerIoOptions> | null;
  const bad = (what: string) => new TypeError(`platform worker services: options.${what}`);
  if (typeof o?.databaseUrl !== 'string' || !o.databaseUrl) throw bad('databaseUrl must be a connection string');
  if (!Array.isArray(o.platformData?.clients) || !Array.isArray(o.platformData?.services)) throw bad('platformData must hold clients and services');
  if (!Number.isInteger(o.poolMax) || o.poolMax! < 1) throw bad('poolMax must be a positive integer');
  if (!Number.isInteger(o.idleTimeoutMs) || o.idleTimeoutMs! < 1) throw bad('idleTimeoutMs must be a positive integer');
  if (typeof o.metricsChannel !== 'string' || !o.metricsChannel) throw bad('metricsChannel must be a channel name');
  return o as PlatformWorkerIoOptions;
}

/** The sandbox worker's services: the platform's cores on the execution's clock and log. */
export const createWorkerIo: WorkerIoFactory = (options, env): WorkerIo => {
  const o = checkedOptions(options);
  forwardSchedulerMetrics(o.metricsChannel);
  const pool = createPool(o.databaseUrl, o.poolMax, { idleTimeoutMillis: o.idleTimeoutMs, allowExitOnIdle: true, application_name: WORKER_IO_APPLICATION_NAME });
  const now = () => env.now();
  const b = platformBackends({ pool, jobs: createPostgresJobEngine({ clock: { now } }), data: o.platformData, logger: env.logger, now });
  let closed: Promise<void> | undefined;
  return {
    services: { scheduler: b.scheduler, storage: b.storage, platformApi: b.platformApi, ...o.settings },
    close: () => (closed ??= pool.end()),
    flush: flushSchedulerMetrics,
  };
};
