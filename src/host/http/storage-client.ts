/**
 * The runner's storage callback over HTTP: `POST {base}/api/internal/ext-storage/install/{id}` with
 * `x-runner-auth`, as production's runner calls it, on a keep-alive undici pool. The answer goes to
 * the same mapping as in-process replies; an execution that stops aborts the request, and the server
 * rolls the write back.
 */
import { Agent, request } from 'undici';
import type { StorageBackend, StorageReply } from '../ports.js';
import { STORAGE_ROUTE_PREFIX } from '../../shared/storage-api.js';

export interface HttpStorageOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
}

export function createHttpStorageBackend(opts: HttpStorageOptions): StorageBackend & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 32, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    async call(installId, body, signal): Promise<StorageReply> {
      // Missing configuration is production's `internal`.
      if (!opts.baseUrl || !opts.token) return { status: 500, body: { error: 'Storage callback is not configured (base URL or token missing)' } };
      let res;
      try {
        res = await request(`${opts.baseUrl}${STORAGE_ROUTE_PREFIX}${encodeURIComponent(installId)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-runner-auth': opts.token },
          body: JSON.stringify(body),
          dispatcher: agent,
          signal,
        });
      } catch (e) {
        return { status: 502, body: { error: `Storage callback failed: ${(e as Error).message}` } };
      }
      const text = await res.body.text().catch(() => '');
      if (text.trim() === '') return { status: res.statusCode, body: null };
      try {
        return { status: res.statusCode, body: JSON.parse(text) };
      } catch {
        // A 2xx that is not JSON is production's `internal`; keep non-2xx statuses as they are.
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        return { status: ok ? 502 : res.statusCode, body: null };
      }
    },
    close: () => agent.close(),
  };
}
