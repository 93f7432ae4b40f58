/**
 * The split runner's scheduler, storage and platform-API clients to the platform's internal routes,
 * built alike on the main thread (`startRunnerService`) and in a sandbox worker (`createWorkerIo`,
 * the JSPI path: docs/sandbox.md#services-in-the-sandbox-worker), where they share one small
 * keep-alive pool. A worker imports this module by the URL of the spec `httpWorkerIoSpec` makes.
 */
import type { Agent } from 'undici';
import type { HostSettings } from '../interfaces/types.js';
import type { PlatformApiBackend, SchedulerBackend, StorageBackend, WorkerIo, WorkerIoFactory, WorkerIoSpec } from '../ports.js';
import { createCallbackAgent } from './callback.js';
import { createHttpPlatformApiBackend } from './platform-api-client.js';
import { createHttpSchedulerBackend } from './scheduler-client.js';
import { createHttpStorageBackend } from './storage-client.js';

/** Connections of one worker to the platform: at most sandboxes × this many in all. */
export const WORKER_HTTP_CONNECTIONS = 2;

/** What crosses into the worker: plain data only (structured clone). */
export interface HttpWorkerIoOptions {
  /** The platform's base URL (STORAGE_API_BASE_URL); unset answers as the main thread's clients do. */
  callbackBase: string | undefined;
  token: string | undefined;
  settings: HostSettings;
  connections: number;
}

export function httpWorkerIoSpec(o: { callbackBase: string | undefined; token: string | undefined; settings: HostSettings; connections?: number }): WorkerIoSpec {
  const options: HttpWorkerIoOptions = { callbackBase: o.callbackBase, token: o.token, settings: o.settings, connections: o.connections ?? WORKER_HTTP_CONNECTIONS };
  return { module: import.meta.url, options };
}

function checkedOptions(options: unknown): HttpWorkerIoOptions {
  const o = options as Partial<HttpWorkerIoOptions> | null;
  const bad = (what: string) => new TypeError(`runner worker services: options.${what}`);
  if (o === null || typeof o !== 'object') throw new TypeError('runner worker services: options must be an object');
  if (o.callbackBase !== undefined && typeof o.callbackBase !== 'string') throw bad('callbackBase must be a URL string');
  if (o.token !== undefined && typeof o.token !== 'string') throw bad('token must be a string');
  if (!Number.isInteger(o.connections) || o.connections! < 1) throw bad('connections must be a positive integer');
  return o as HttpWorkerIoOptions;
}

export interface HttpBackends {
  scheduler: SchedulerBackend;
  storage: StorageBackend;
  platformApi: PlatformApiBackend;
  /** Ends the clients' own pools (a `dispatcher` given is the caller's to close). */
  close(): Promise<void>;
}

/** The split runner's scheduler, storage and platform-API clients, alike on the main thread
 * (`startRunnerService`) and in a sandbox worker; on `dispatcher` when given, else each on its own pool. */
export function httpBackends(o: { baseUrl: string | undefined; token: string | undefined; dispatcher?: Agent }): HttpBackends {
  const scheduler = createHttpSchedulerBackend(o);
  const storage = createHttpStorageBackend(o);
  const platformApi = createHttpPlatformApiBackend(o);
  return {
    scheduler,
    storage,
    platformApi,
    close: async () => {
      await Promise.all([scheduler.close(), storage.close(), platformApi.close()]);
    },
  };
}

/** The sandbox worker's scheduler, storage and platform-API clients (the clock and log are the server's). */
export const createWorkerIo: WorkerIoFactory = (options): WorkerIo => {
  const o = checkedOptions(options);
  const dispatcher = createCallbackAgent(o.connections);
  const { scheduler, storage, platformApi } = httpBackends({ baseUrl: o.callbackBase, token: o.token, dispatcher });
  let closed: Promise<void> | undefined;
  return {
    services: { scheduler, storage, platformApi, ...o.settings },
    close: () => (closed ??= dispatcher.close()),
  };
};
