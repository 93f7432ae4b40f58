/**
 * Component bytes fetched from the platform's registry by content hash
 * (`GET {base}/api/internal/ext-bundles/sha256/{hex}` with `x-runner-auth`). Production fetches a
 * bundle from object storage instead; what the runner does with the bytes is the same.
 */
import { Agent, request } from 'undici';
import { contentHashHex } from '../../shared/content-hash.js';
import type { ComponentSource } from '../ports.js';

export function createHttpComponentSource(opts: { baseUrl: string | undefined; token: string | undefined; timeoutMs?: number }): ComponentSource & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    async load({ contentHash }) {
      if (!opts.baseUrl || !opts.token) throw new Error('registry base URL or runner token not configured');
      const hex = contentHashHex(contentHash);
      const res = await request(`${opts.baseUrl}/api/internal/ext-bundles/sha256/${hex}`, {
        headers: { 'x-runner-auth': opts.token },
        dispatcher: agent,
      });
      if (res.statusCode === 404) {
        await res.body.dump();
        return null;
      }
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        throw new Error(`registry answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      }
      return new Uint8Array(await res.body.arrayBuffer());
    },
    close: () => agent.close(),
  };
}
