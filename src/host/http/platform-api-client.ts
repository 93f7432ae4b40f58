/**
 * The runner's clients / services / invoicing callbacks over HTTP:
 * `POST {base}/api/internal/ext-{api}/install/{id}` with `x-runner-auth`, as production's runner calls
 * them (30 s), on a keep-alive undici pool. The status and raw text go to the interface's mapping.
 */
import { Agent, request } from 'undici';
import type { PlatformApiBackend, PlatformReply } from '../ports.js';
import { platformApiRoutePrefix } from '../../shared/platform-api.js';

export interface HttpPlatformApiOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
}

export function createHttpPlatformApiBackend(opts: HttpPlatformApiOptions): PlatformApiBackend & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 32, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    async call(api, installId, body, signal): Promise<PlatformReply> {
      if (!opts.baseUrl) return { kind: 'unreachable', reason: 'no-base-url', message: `${api} callback base URL not configured` };
      if (!opts.token) return { kind: 'unreachable', reason: 'no-token', message: 'runner auth token not configured' };
      try {
        const res = await request(`${opts.baseUrl}${platformApiRoutePrefix(api)}${encodeURIComponent(installId)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-runner-auth': opts.token },
          body: JSON.stringify(body),
          dispatcher: agent,
          signal,
        });
        // Production reads the text and treats a failed read as an empty body.
        const text = await res.body.text().catch(() => '');
        return { kind: 'answer', status: res.statusCode, text };
      } catch (e) {
        return { kind: 'unreachable', reason: 'transport', message: (e as Error).message };
      }
    },
    close: () => agent.close(),
  };
}
