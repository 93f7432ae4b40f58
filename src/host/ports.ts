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
