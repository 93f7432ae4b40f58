/**
 * The split runner's services as a sandbox worker builds them in its own thread (the JSPI path,
 * docs/sandbox.md#services-in-the-sandbox-worker): the same HTTP clients to the platform's internal
 * routes the main thread uses, on one small keep-alive pool per worker. A worker imports this module
 * by the URL of the spec `httpWorkerIoSpec` makes.
 */
import { Agent } from 'undici';
import type { HostSettings } from '../interfaces/types.js';
import type { WorkerIo, WorkerIoFactory, WorkerIoSpec } from '../ports.js';
import { createHttpPlatformApiBackend } from './platform-api-client.js';
import { createHttpSchedulerBackend } from './scheduler-client.js';
import { createHttpStorageBackend } from './storage-client.js';

/** Connections of one worker to the platform: at most sandboxes × this many in all. */
export const WORKER_HTTP_CONNECTIONS = 2;
/** Production's callback timeout, as the main thread's clients have it. */
const CALLBACK_TIMEOUT_MS = 30_000;

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

/** The sandbox worker's scheduler, storage and platform-API clients (the clock and log are the server's). */
export const createWorkerIo: WorkerIoFactory = (options): WorkerIo => {
  const o = checkedOptions(options);
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: o.connections, headersTimeout: CALLBACK_TIMEOUT_MS, bodyTimeout: CALLBACK_TIMEOUT_MS });
  const base = { baseUrl: o.callbackBase, token: o.token, dispatcher };
  let closed: Promise<void> | undefined;
  return {
    services: {
      scheduler: createHttpSchedulerBackend(base),
      storage: createHttpStorageBackend(base),
      platformApi: createHttpPlatformApiBackend(base),
      ...o.settings,
    },
    close: () => (closed ??= dispatcher.close()),
  };
};
