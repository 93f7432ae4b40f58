/**
 * What the runner needs from the platform. The host never imports `src/server/`: the composition
 * root wires these ports to the server in-process, or to an HTTP client in the split shape.
 */

export type { SchedulerOperation, SchedulerReply, SchedulerRequest } from '../shared/scheduler-api.js';
import type { SchedulerReply, SchedulerRequest } from '../shared/scheduler-api.js';

export type { StorageReply, StorageRequest } from '../shared/storage-api.js';
import type { StorageReply, StorageRequest } from '../shared/storage-api.js';

/** The platform's storage API (in-process: the route's core; split: production's internal route). */
export interface StorageBackend {
  call(installId: string, request: StorageRequest, signal?: AbortSignal): Promise<StorageReply>;
}

export type { PlatformApi, PlatformReply } from '../shared/platform-api.js';
import type { PlatformApi, PlatformReply } from '../shared/platform-api.js';

/** The platform's clients, services and invoicing APIs (in-process: the routes' core; split:
 * production's internal routes). `body` is the JSON production's runner posts. */
export interface PlatformApiBackend {
  call(api: PlatformApi, installId: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<PlatformReply>;
}

export interface SchedulerBackend {
  call(installId: string, request: SchedulerRequest, signal?: AbortSignal): Promise<SchedulerReply>;
}

/** Where component bytes come from, by content hash (production downloads a bundle from its
 * registry; we ask the server's registry, which stores the bytes at install). */
export interface ComponentSource {
  load(ref: { tenantId: string; extensionId: string; contentHash: string }): Promise<Uint8Array | null>;
}

/**
 * How a sandbox worker builds the platform's services in its own thread, so that on the JSPI path
 * (Node ≥ 24.20) an I/O import runs there, with no hop to the main thread (docs/sandbox.md). The
 * spec crosses into the worker by structured clone: the worker imports `module` and calls its
 * `createWorkerIo` export (a `WorkerIoFactory`) with `options`. The composition root names its own
 * module (in-process: the server's services on a bounded pool of the same database; split: HTTP to
 * the server's internal routes), so the host never imports the server. The runner asks for a spec
 * per execution (the test kit's one runner serves several platforms, each its own database); a
 * worker keeps the services of each spec it has seen, keyed by the spec's value, and closes them
 * when it stops.
 */
export interface WorkerIoSpec {
  /** `file:` URL of an ES module exporting `createWorkerIo`. */
  module: string;
  /** Structured-cloneable; only the module reads it. */
  options: unknown;
}

/** What the worker gives the factory: the clock and the log of the execution in progress. */
export interface WorkerIoEnv {
  /** The execution's clock (the wall clock shifted as the platform's clock is, per execution). */
  now(): Date;
  /** Lines logged here belong to the execution in progress, as the main thread's would. */
  logger: import('../shared/logger.js').Logger;
}

/** The services of one sandbox worker, for its lifetime. */
export interface WorkerIo {
  services: import('./interfaces/types.js').HostServices;
  /** Ends its connections (the worker is being stopped or replaced). */
  close(): Promise<void>;
  /** Sends what it holds for the thread that made the spec (its metrics): called as each execution
   * ends or is stopped, and before `close`. */
  flush?(): void;
}

export type WorkerIoFactory = (options: unknown, env: WorkerIoEnv) => WorkerIo | Promise<WorkerIo>;
