import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { addressPermitted } from '../egress/addresses.js';
import { err, ok, type ExecutionContext, type HostInterface } from './types.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const TIMEOUT_MS = 30_000; // production's outbound client timeout
/** Ours: an outbound response body past this is refused (`internal`) rather than buffered whole. */
export const DEFAULT_MAX_FETCH_BYTES = 32 * 1024 * 1024;

/**
 * A response body read whole, up to `max` bytes (http.fetch and ui-proxy): undefined when it is
 * larger (the rest is not read) or the read fails, which both interfaces answer as `internal`.
 */
export async function readBoundedBody(body: AsyncIterable<unknown> & { destroy(): unknown }, max: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        body.destroy();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return undefined;
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Exact host or a subdomain of an allowed entry; an empty list allows every host (production). */
export function egressAllowed(host: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const h = host.toLowerCase();
  return allowlist.some((a) => {
    const allowed = a.trim().toLowerCase();
    return allowed !== '' && (h === allowed || h.endsWith(`.${allowed}`));
  });
}

/** The allowlist names this host explicitly (an empty allowlist names none). */
function explicitlyAllowed(host: string, allowlist: readonly string[]): boolean {
  return allowlist.length > 0 && egressAllowed(host, allowlist);
}

export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;
const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

/** The one address this request may connect to, or why not (docs/differences.md#egress). */
async function pickAddress(ctx: ExecutionContext, host: string): Promise<{ address: string; family: number } | 'not-allowed' | 'transport'> {
  let found;
  try {
    found = await (ctx.services.resolve ?? systemResolve)(host.replace(/^\[|\]$/g, ''));
  } catch {
    return 'transport';
  }
  const first = found[0];
  if (!first) return 'transport';
  if (explicitlyAllowed(host, ctx.services.egressAllowlist ?? [])) return first;
  return addressPermitted(first.address, { refuseInternal: ctx.services.refuseInternalAddresses ?? false }) ? first : 'not-allowed';
}

/** Connections that go to `address` whatever the host name says: resolved once, checked, used.
 * Kept per (host, port, address) so that keep-alive connections are reused: a pooled connection is
 * to the address this request resolved and checked, so reuse never bypasses the rules. */
const PINNED_MAX = 64;
const pinned = new Map<string, Agent>();
function pinnedAgent(origin: string, address: string, family: number): Agent {
  const key = `${origin}|${address}`;
  const found = pinned.get(key);
  if (found) {
    pinned.delete(key); // most recently used last
    pinned.set(key, found);
    return found;
  }
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else cb(null, address, family);
  };
  const agent = new Agent({ connect: { lookup }, connections: 8, keepAliveTimeout: 10_000 });
  pinned.set(key, agent);
  if (pinned.size > PINNED_MAX) {
    const [oldKey, oldest] = pinned.entries().next().value as [string, Agent];
    pinned.delete(oldKey);
    oldest.close().catch(() => {});
  }
  return agent;
}

/** `http.fetch` (cap:http.fetch): production's checks (capability, URL, allowlist, method), then the
 * address rules on the resolved address, one connection to that address, no redirects followed, the
 * body bounded (docs/differences.md#egress). */
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
      if (!egressAllowed(url.hostname, ctx.services.egressAllowlist ?? [])) return err('not-allowed');
      if (!METHODS.has(method) || (url.protocol !== 'http:' && url.protocol !== 'https:')) return err('invalid-url');
      const target = await pickAddress(ctx, url.hostname);
      if (target === 'not-allowed') {
        ctx.logger.warn('http.fetch refused: the address is not reachable for extensions', { host: url.hostname });
        return err('not-allowed');
      }
      if (target === 'transport') return err('transport');
      const agent = pinnedAgent(url.origin, target.address, target.family);
      let res;
      try {
        res = await request(url, {
          method: method as 'GET',
          headers: Object.fromEntries((req.headers ?? []).map((h) => [h.name, h.value])),
          body: req.body && req.body.length ? Buffer.from(req.body) : undefined,
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
          dispatcher: agent,
          signal,
        });
      } catch {
        return err('transport');
      }
      const body = await readBoundedBody(res.body, ctx.services.maxFetchBytes ?? DEFAULT_MAX_FETCH_BYTES);
      if (!body) return err('internal');
      const headers: { name: string; value: string }[] = [];
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) headers.push({ name, value: String(v) });
      }
      return ok({ status: res.statusCode, headers, body });
    },
  },
  onInternalError: () => err('internal'),
};
