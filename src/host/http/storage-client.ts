/**
 * The runner's storage callback over HTTP: `POST {base}/api/internal/ext-storage/install/{id}` with
 * `x-runner-auth`, as production's runner calls it, on a keep-alive undici pool. The answer goes to
 * the same mapping as in-process replies; an execution that stops aborts the request, and the server
 * rolls the write back.
 */
import type { Agent } from 'undici';
import type { StorageBackend, StorageReply } from '../ports.js';
import { STORAGE_ROUTE_PREFIX } from '../../shared/storage-api.js';
import { createCallbackPoster, jsonReply } from './callback.js';

export interface HttpStorageOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
  /** A pool owned by the caller (not closed here). */
  dispatcher?: Agent;
}

export function createHttpStorageBackend(opts: HttpStorageOptions): StorageBackend & { close(): Promise<void> } {
  const poster = createCallbackPoster(opts);
  return {
    async call(installId, body, signal): Promise<StorageReply> {
      const res = await poster.post(`${STORAGE_ROUTE_PREFIX}${encodeURIComponent(installId)}`, body, signal);
      // Missing configuration is production's `internal`.
      if (res.kind === 'unconfigured') return { status: 500, body: { error: 'Storage callback is not configured (base URL or token missing)' } };
      if (res.kind === 'transport') return { status: 502, body: { error: `Storage callback failed: ${res.message}` } };
      return jsonReply(res.status, res.text, null) as StorageReply;
    },
    close: () => poster.close(),
  };
}
