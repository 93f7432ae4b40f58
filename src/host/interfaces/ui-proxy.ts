/**
 * `ui-proxy.call-route` (cap:ui.proxy): production's request to the UI proxy
 * (docs/production-contract.md#ui-proxy): the URL built from UI_PROXY_BASE_URL, the extension id and
 * the route's segments; GET, or POST with a payload; the context, install, user and `api_key` secret
 * as headers; UI_PROXY_TIMEOUT_MS; the status mapped. Redirects are not followed (a 3xx is
 * `internal`); the response body is bounded as http.fetch's (docs/differences.md#egress).
 */
import { request } from 'undici';
import type { ProxyError } from '../wit-types/interfaces/alga-extension-types.js';
import { maxFetchBytes, readBoundedBody } from './http.js';
import { err, ok, type ExecutionContext, type HostInterface } from './types.js';

export const DEFAULT_UI_PROXY_TIMEOUT_MS = 5_000;

/** Production's status mapping (401/403/429 denied, 404 route-not-found, other 4xx bad-request). */
export function statusToProxyError(status: number): ProxyError {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status === 404) return 'route-not-found';
  if (status >= 400 && status < 500) return 'bad-request';
  return 'internal';
}

/** The URL standard's path-segment percent-encode set (what a URL path segment push encodes). */
function encodeSegment(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const c = String.fromCharCode(byte);
    const encode = byte < 0x21 || byte > 0x7e || ' "#<>?`{}/%'.includes(c);
    out += encode ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

/** The URL standard's query percent-encode set (special schemes also encode `'`). */
function encodeQuery(query: string): string {
  let out = '';
  for (const byte of Buffer.from(query, 'utf8')) {
    const c = String.fromCharCode(byte);
    const encode = byte < 0x21 || byte > 0x7e || ' "#<>\''.includes(c);
    out += encode ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

/** The proxy URL for `route`, or the refusal production gives for it. */
export function proxyUrl(base: URL, extensionId: string, route: string): { url: string } | { refused: ProxyError } {
  const trimmed = route.trim();
  if (!trimmed) return { refused: 'bad-request' };
  const q = trimmed.indexOf('?');
  const path = q < 0 ? trimmed : trimmed.slice(0, q);
  const query = q < 0 ? undefined : trimmed.slice(q + 1);
  const platformApi = path.startsWith('/api/') || path.startsWith('api/');
  const segments = base.pathname.split('/').slice(1);
  if (segments.length && segments[segments.length - 1] === '') segments.pop();
  if (!platformApi) segments.push(encodeSegment(extensionId));
  for (const seg of path.replace(/^\/+/, '').split('/')) {
    if (seg === '') continue;
    if (seg === '.' || seg === '..') return { refused: 'bad-request' };
    segments.push(encodeSegment(seg));
  }
  const search = query ? `?${encodeQuery(query)}` : '';
  return { url: `${base.protocol}//${base.host}/${segments.join('/')}${search}` };
}

async function callRoute(ctx: ExecutionContext, route: string, payload: Uint8Array | undefined, signal: AbortSignal) {
  if (!ctx.granted.has('cap:ui.proxy')) return err('denied' as const);
  const baseUrl = ctx.services.uiProxy?.baseUrl;
  const base = baseUrl && URL.canParse(baseUrl) ? new URL(baseUrl) : undefined;
  if (!base) return err('route-not-found' as const);
  const { tenantId, extensionId, installId, versionId } = ctx.context;
  if (!tenantId || !extensionId) return err('internal' as const);
  const built = proxyUrl(base, extensionId, route);
  if ('refused' in built) return err(built.refused);
  const headers: Record<string, string> = {
    'x-request-id': ctx.context.requestId ?? 'ui-proxy-call',
    'x-alga-tenant': tenantId,
    'x-alga-extension': extensionId,
  };
  if (installId !== undefined) headers['x-ext-install-id'] = installId;
  if (versionId !== undefined) headers['x-ext-version-id'] = versionId;
  const apiKey = ctx.secrets?.api_key;
  if (apiKey !== undefined) headers['x-api-key'] = apiKey;
  if (ctx.user) {
    headers['x-user-id'] = ctx.user.userId;
    headers['x-user-email'] = ctx.user.userEmail;
  }
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const timeout = AbortSignal.timeout(ctx.services.uiProxy?.timeoutMs ?? DEFAULT_UI_PROXY_TIMEOUT_MS);
  const started = performance.now();
  let res;
  try {
    res = await request(built.url, {
      method: payload !== undefined ? 'POST' : 'GET',
      headers,
      body: payload !== undefined ? Buffer.from(payload) : undefined,
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (e) {
    ctx.logger.error('ui proxy request failed during transport', { route: built.url, error: timeout.aborted ? 'timeout' : (e as Error).message });
    return err('internal' as const);
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    await res.body.dump().catch(() => {});
    ctx.logger.warn('ui proxy backend returned non-success status', { status: res.statusCode, duration_ms: Math.round(performance.now() - started) });
    return err(statusToProxyError(res.statusCode));
  }
  const body = await readBoundedBody(res.body, maxFetchBytes(ctx.services));
  return body ? ok(body) : err('internal' as const);
}

export const uiProxy: HostInterface<'alga:extension/ui-proxy'> = {
  functions: {
    callRoute: (ctx, [route, payload], signal) => callRoute(ctx, route, payload, signal),
  },
  onInternalError: () => err('internal'),
};
