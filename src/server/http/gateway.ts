/**
 * `/api/ext/{extension}/{path}`: the local stand-in for Alga's extension gateway
 * (docs/production-contract.md#gateway). It resolves the tenant's install, builds production's /v1/execute envelope, runs it and
 * answers with the guest's response.
 */
import { excerpt } from '../../shared/excerpt.js';
import { Deadline } from '../../shared/deadline.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import type { ExecuteClient, ExecuteRequestBody } from '../../shared/execute-envelope.js';
import { buildExecuteCall } from '../execute-request.js';
import { findInstall } from '../registry/registry.js';
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Logger } from '../../shared/logger.js';
import { readBody } from '../../shared/read-body.js';

const FORWARDED_HEADERS = ['x-request-id', 'accept', 'content-type', 'accept-encoding', 'user-agent'];
export const GATEWAY_BODY_LIMIT = 10 * 1024 * 1024; // production's 10 MiB cap → 413
export const GATEWAY_PREFIX = '/api/ext/';
/** Production's EXT_GATEWAY_TIMEOUT_MS default. */
const DEFAULT_GATEWAY_TIMEOUT_MS = 30_000;

export interface GatewayOptions {
  pool: pg.Pool;
  runner: ExecuteClient;
  /** Tenant of requests without an `x-alga-tenant` header. */
  defaultTenant: string;
  /** Each request's budget (EXT_GATEWAY_TIMEOUT_MS): its one deadline, counted from its arrival. */
  timeoutMs?: number;
  /** The session user the gateway passes on (production sends one when a user is signed in). */
  user?: ExecuteRequestBody['user'];
  logger?: Logger;
  /** `dev`: installs the extension for a tenant that has none (first request); true when it did. */
  installOnDemand?: (tenant: string, extension: string) => Promise<boolean>;
  /** `dev`: sees each request as it goes to the runner (to replay it from the dashboard). */
  onRequest?: (r: { requestId: string; tenant: string; extension: string; method: string; path: string; search: string; headers: Record<string, string>; body: Buffer | undefined }) => void;
}

/** An endpoint path pattern (`/api/schedules/:id`) matches a concrete path segment by segment. */
export function endpointMatches(pattern: string, path: string): boolean {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return false;
  return a.every((seg, i) => seg.startsWith(':') || (seg.startsWith('{') && seg.endsWith('}')) || seg === b[i]);
}

/** The tenant a platform request acts for: `x-alga-tenant`, else the platform's default. */
export function requestTenant(req: IncomingMessage, fallback: string): string {
  const h = req.headers['x-alga-tenant'];
  return (Array.isArray(h) ? h[0] : h)?.trim() || fallback;
}

export async function handleGateway(opts: GatewayOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  // The execution's one deadline, from the request's arrival; a client that goes away stops its
  // guest too (its sandbox is freed for the next request).
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  const deadline = new Deadline(opts.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS, gone.signal);
  try {
    await serve(opts, req, res, url, deadline, gone.signal);
  } finally {
    deadline.dispose();
  }
}

async function serve(opts: GatewayOptions, req: IncomingMessage, res: ServerResponse, url: URL, deadline: Deadline, gone: AbortSignal): Promise<void> {
  const rest = url.pathname.slice(GATEWAY_PREFIX.length);
  const slash = rest.indexOf('/');
  const rawExtension = slash < 0 ? rest : rest.slice(0, slash);
  let extension: string;
  try {
    extension = decodeURIComponent(rawExtension);
  } catch {
    extension = rawExtension; // malformed %-escape: no extension has this name (404 below, not a 500)
  }
  const path = slash < 0 ? '/' : rest.slice(slash);
  const tenant = requestTenant(req, opts.defaultTenant);
  const method = (req.method ?? 'GET').toUpperCase();
  if (!extension) throw new HttpError(404, 'extension_not_found', 'no extension named in the path');

  let install = await findInstall(opts.pool, tenant, extension);
  if (!install && opts.installOnDemand && (await opts.installOnDemand(tenant, extension))) install = await findInstall(opts.pool, tenant, extension);
  if (!install) throw new HttpError(404, 'extension_not_found', `extension ${excerpt(extension)} is not installed for tenant ${excerpt(tenant)}`);
  if (!install.enabled) throw new HttpError(404, 'extension_disabled', `extension ${excerpt(extension)} is disabled for tenant ${excerpt(tenant)}`);
  if (!install.endpoints.some((e) => e.method === method && endpointMatches(e.path, path))) {
    // Production's gateway answers exactly this body for a method and path the installed version
    // does not declare; the declared list goes to the log instead, where a developer looks.
    const declared = install.endpoints.map((e) => `${e.method} ${e.path}`).join(', ');
    opts.logger?.warn('endpoint not found', { extension: install.extensionName, method, path, declared });
    sendJson(res, 404, { error: 'endpoint_not_found' });
    return;
  }

  const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, GATEWAY_BODY_LIMIT);
  opts.onRequest?.({ requestId, tenant, extension: install.extensionName, method, path, search: url.search, headers, body });
  const call = buildExecuteCall(install, {
    method,
    path,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
    requestId,
    // The client's key, else one of our own per request: never the client's x-request-id, which a
    // client may reuse across different calls (production falls back to it; docs/differences.md#idempotency).
    idempotencyKey: method !== 'GET' ? ((req.headers['x-idempotency-key'] as string | undefined)?.trim() || randomUUID()) : undefined,
    timeoutMs: deadline.budgetMs,
    user: opts.user,
  });
  const out = await opts.runner.execute(call.headers, call.body, deadline.signal);
  if (gone.aborted) return;
  if (out.error) {
    // The runner's error string is production's (`execute_failed: …`); the code is its prefix.
    sendJson(res, out.status, { error: out.error.split(':')[0], message: out.error, requestId }, { 'x-request-id': requestId });
    return;
  }
  const responseBody = out.body_b64 ? Buffer.from(out.body_b64, 'base64') : Buffer.alloc(0);
  try {
    res.writeHead(out.status, { ...out.headers, 'content-length': String(responseBody.length), 'x-request-id': requestId });
  } catch (e) {
    // A guest header Node refuses (bad name or value): say so instead of a bare 500.
    throw new HttpError(502, 'invalid_guest_response', `the extension answered a header Node cannot send: ${(e as Error).message}`);
  }
  res.end(responseBody);
}
