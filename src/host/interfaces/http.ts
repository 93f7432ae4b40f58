import { request } from 'undici';
import { err, ok, type HostInterface } from './types.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const TIMEOUT_MS = 30_000; // production's outbound client timeout
/** Ours: an outbound response body past this is refused (`internal`) rather than buffered whole. */
export const DEFAULT_MAX_FETCH_BYTES = 32 * 1024 * 1024;

/** Exact host or a subdomain of an allowed entry; an empty list allows every host (production). */
export function egressAllowed(host: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const h = host.toLowerCase();
  return allowlist.some((a) => {
    const allowed = a.trim().toLowerCase();
    return allowed !== '' && (h === allowed || h.endsWith(`.${allowed}`));
  });
}

/** `http.fetch` (cap:http.fetch): a real outbound request; redirects are not followed. */
export const http: HostInterface<'alga:extension/http'> = {
  functions: {
    fetch: async (ctx, [req], signal) => {
      if (!ctx.granted.has('cap:http.fetch')) return err('not-allowed');
      const method = req.method.toUpperCase();
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        return err('invalid-url');
      }
      if (!METHODS.has(method) || (url.protocol !== 'http:' && url.protocol !== 'https:')) return err('invalid-url');
      if (!egressAllowed(url.hostname, ctx.services.egressAllowlist ?? [])) return err('not-allowed');
      let res;
      try {
        res = await request(url, {
          method: method as 'GET',
          headers: Object.fromEntries((req.headers ?? []).map((h) => [h.name, h.value])),
          body: req.body && req.body.length ? Buffer.from(req.body) : undefined,
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
          signal,
        });
      } catch {
        return err('transport');
      }
      const max = ctx.services.maxFetchBytes ?? DEFAULT_MAX_FETCH_BYTES;
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > max) {
            res.body.destroy();
            return err('internal');
          }
          chunks.push(chunk as Buffer);
        }
      } catch {
        return err('internal');
      }
      const body = new Uint8Array(Buffer.concat(chunks));
      const headers: { name: string; value: string }[] = [];
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) headers.push({ name, value: String(v) });
      }
      return ok({ status: res.statusCode, headers, body });
    },
  },
  onInternalError: () => err('internal'),
};
