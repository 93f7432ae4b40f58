import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { addressPermitted } from '../egress/addresses.js';
import { err, ok, type ExecutionContext, type HostInterface, type HostServices } from './types.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const TIMEOUT_MS = 30_000; // production's outbound client timeout
const CONNECT_TIMEOUT_MS = 10_000; // undici's default, which http.fetch has always had
/** Ours: an outbound response body past this is refused (`internal`) rather than buffered whole. */
const DEFAULT_MAX_FETCH_BYTES = 32 * 1024 * 1024;

/** ALGA_FETCH_MAX_BYTES as the services carry it: the one bound on every body an extension's
 * outbound HTTP sends or receives (http.fetch, ui-proxy, wasi:http). */
export function maxFetchBytes(services: HostServices): number {
  return services.maxFetchBytes ?? DEFAULT_MAX_FETCH_BYTES;
}

/** A response body read whole, up to `max` bytes: `too-large` when it is larger (the rest is not
 * read), `failed` (with the error) when the read fails. */
export async function readBody(body: AsyncIterable<unknown> & { destroy(): unknown }, max: number): Promise<Uint8Array | { fail: 'too-large' } | { fail: 'failed'; error: unknown }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        body.destroy();
        return { fail: 'too-large' };
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    return { fail: 'failed', error };
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * A response body read whole, up to `max` bytes (http.fetch and ui-proxy): undefined when it is
 * larger (the rest is not read) or the read fails, which both interfaces answer as `internal`.
 */
export async function readBoundedBody(body: AsyncIterable<unknown> & { destroy(): unknown }, max: number): Promise<Uint8Array | undefined> {
  const out = await readBody(body, max);
  return out instanceof Uint8Array ? out : undefined;
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
async function pickAddress(ctx: ExecutionContext, host: string): Promise<{ address: string; family: number } | 'not-allowed' | { dns: unknown }> {
  let found;
  try {
    found = await (ctx.services.resolve ?? systemResolve)(host.replace(/^\[|\]$/g, ''));
  } catch (error) {
    return { dns: error };
  }
  const first = found[0];
  if (!first) return { dns: undefined };
  if (explicitlyAllowed(host, ctx.services.egressAllowlist ?? [])) return first;
  return addressPermitted(first.address, { refuseInternal: ctx.services.refuseInternalAddresses ?? false }) ? first : 'not-allowed';
}

/** Connections that go to `address` whatever the host name says: resolved once, checked, used.
 * Kept per (host, port, address) so that keep-alive connections are reused: a pooled connection is
 * to the address this request resolved and checked, so reuse never bypasses the rules. */
const PINNED_MAX = 64;
const pinned = new Map<string, Agent>();
function pinnedAgent(origin: string, address: string, family: number, connectTimeoutMs: number): Agent {
  const key = `${origin}|${address}|${connectTimeoutMs}`;
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
  const agent = new Agent({ connect: { lookup, timeout: connectTimeoutMs }, connections: 8, keepAliveTimeout: 10_000 });
  pinned.set(key, agent);
  if (pinned.size > PINNED_MAX) {
    const [oldKey, oldest] = pinned.entries().next().value as [string, Agent];
    pinned.delete(oldKey);
    oldest.close().catch(() => {});
  }
  return agent;
}

/** One outbound request, as http.fetch and wasi:http's outgoing-handler both make it. */
export interface EgressRequest {
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  body?: Uint8Array;
  /** Shorter timeouts a wasi:http guest asked for (never longer than http.fetch's). */
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  betweenBytesTimeoutMs?: number;
}

export interface EgressResponse {
  status: number;
  headers: { name: string; value: string }[];
  body: Uint8Array;
}

/** Why a request got no response, finely enough for wasi:http's `error-code`; http.fetch folds
 * these into its four codes. `send` and `body` carry the error undici (or the socket) gave. */
export type EgressFailure =
  | { kind: 'not-granted' }
  | { kind: 'invalid-url' }
  | { kind: 'invalid-method' }
  | { kind: 'not-listed' }
  | { kind: 'address-refused' }
  | { kind: 'dns'; error: unknown }
  | { kind: 'send'; error: unknown }
  | { kind: 'body-too-large'; max: number }
  | { kind: 'body'; error: unknown };

/** The one egress path (docs/differences.md#egress): production's checks (capability, URL,
 * allowlist, method), then the address rules on the resolved address, one connection to that
 * address, no redirects followed, the body bounded, timeouts, the execution's signal. */
export async function egress(ctx: ExecutionContext, req: EgressRequest, signal: AbortSignal, label: string): Promise<{ ok: EgressResponse } | { fail: EgressFailure }> {
  if (!ctx.granted.has('cap:http.fetch')) return { fail: { kind: 'not-granted' } };
  const method = req.method.toUpperCase();
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return { fail: { kind: 'invalid-url' } };
  }
  if (!egressAllowed(url.hostname, ctx.services.egressAllowlist ?? [])) return { fail: { kind: 'not-listed' } };
  if (!METHODS.has(method)) return { fail: { kind: 'invalid-method' } };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { fail: { kind: 'invalid-url' } };
  const target = await pickAddress(ctx, url.hostname);
  if (target === 'not-allowed') {
    ctx.logger.warn(`${label} refused: the address is not reachable for extensions`, { host: url.hostname });
    return { fail: { kind: 'address-refused' } };
  }
  if ('dns' in target) return { fail: { kind: 'dns', error: target.dns } };
  const within = (ms: number | undefined, cap: number) => (ms !== undefined && ms > 0 && ms < cap ? Math.ceil(ms) : cap);
  const agent = pinnedAgent(url.origin, target.address, target.family, within(req.connectTimeoutMs, CONNECT_TIMEOUT_MS));
  let res;
  try {
    res = await request(url, {
      method: method as 'GET',
      headers: Object.fromEntries(req.headers.map((h) => [h.name, h.value])),
      body: req.body && req.body.length ? Buffer.from(req.body) : undefined,
      headersTimeout: within(req.firstByteTimeoutMs, TIMEOUT_MS),
      bodyTimeout: within(req.betweenBytesTimeoutMs, TIMEOUT_MS),
      dispatcher: agent,
      signal,
    });
  } catch (error) {
    return { fail: { kind: 'send', error } };
  }
  const max = maxFetchBytes(ctx.services);
  const body = await readBody(res.body, max);
  if (!(body instanceof Uint8Array)) return { fail: body.fail === 'too-large' ? { kind: 'body-too-large', max } : { kind: 'body', error: body.error } };
  const headers: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) headers.push({ name, value: String(v) });
  }
  return { ok: { status: res.statusCode, headers, body } };
}

/** http.fetch's codes, as production's runner gives them (a body that fails or is too large: `internal`). */
function fetchError(f: EgressFailure): 'not-allowed' | 'invalid-url' | 'transport' | 'internal' {
  switch (f.kind) {
    case 'not-granted':
    case 'not-listed':
    case 'address-refused':
      return 'not-allowed';
    case 'invalid-url':
    case 'invalid-method':
      return 'invalid-url';
    case 'dns':
    case 'send':
      return 'transport';
    case 'body-too-large':
    case 'body':
      return 'internal';
  }
}

/** `http.fetch` (cap:http.fetch): the egress path above, its failures as production's codes. */
export const http: HostInterface<'alga:extension/http'> = {
  functions: {
    fetch: async (ctx, [req], signal) => {
      const out = await egress(ctx, { method: req.method, url: req.url, headers: req.headers ?? [], body: req.body }, signal, 'http.fetch');
      return 'ok' in out ? ok(out.ok) : err(fetchError(out.fail));
    },
  },
  onInternalError: () => err('internal'),
};
