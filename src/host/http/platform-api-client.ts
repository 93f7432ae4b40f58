/**
 * The runner's clients / services / invoicing callbacks over HTTP:
 * `POST {base}/api/internal/ext-{api}/install/{id}` with `x-runner-auth`, as production's runner calls
 * them (30 s), on a keep-alive undici pool. The status and raw text go to the interface's mapping.
 */
import type { Agent } from 'undici';
import type { PlatformApiBackend, PlatformReply } from '../ports.js';
import { platformApiRoutePrefix } from '../../shared/platform-api.js';
import { createCallbackPoster } from './callback.js';

export interface HttpPlatformApiOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
  /** A pool owned by the caller (not closed here). */
  dispatcher?: Agent;
}

export function createHttpPlatformApiBackend(opts: HttpPlatformApiOptions): PlatformApiBackend & { close(): Promise<void> } {
  const poster = createCallbackPoster(opts);
  return {
    async call(api, installId, body, signal): Promise<PlatformReply> {
      const res = await poster.post(`${platformApiRoutePrefix(api)}${encodeURIComponent(installId)}`, body, signal);
      if (res.kind === 'unconfigured') {
        return res.missing === 'base URL'
          ? { kind: 'unreachable', reason: 'no-base-url', message: `${api} callback base URL not configured` }
          : { kind: 'unreachable', reason: 'no-token', message: 'runner auth token not configured' };
      }
      if (res.kind === 'transport') return { kind: 'unreachable', reason: 'transport', message: res.message };
      return { kind: 'answer', status: res.status, text: res.text };
    },
    close: () => poster.close(),
  };
}
