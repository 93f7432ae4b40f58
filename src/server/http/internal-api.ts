/**
 * The platform's internal API for runners: production's scheduler callback route
 * (docs/production-contract.md#scheduler-route), its clients and services routes (#clients, #services) and,
 * ours, component bytes by content hash. Both require `x-runner-auth` (constant-time compare).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { tokensEqual, WEAK_TOKENS } from '../../shared/auth.js';
import { RETRY_AFTER_SECONDS } from '../../shared/db-outage.js';
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Route } from '../../shared/http-server.js';
import { readBody } from '../../shared/read-body.js';
import {
  handleSchedulerOperation,
  INVALID_JSON_REPLY,
  UNAUTHORIZED_REPLY,
  type SchedulerOperationDeps,
} from '../internal-api/scheduler-operation.js';
import type { InternalReply } from '../internal-api/read-api-operation.js';
import { PLATFORM_API_HANDLERS, type PlatformApiDeps } from '../internal-api/platform-operation.js';
import { EMPTY_PLATFORM_DATA } from '../platform-data/platform-data.js';
import { loadBundle } from '../registry/registry.js';
import { PLATFORM_APIS, platformApiRoutePrefix } from '../../shared/platform-api.js';

export const SCHEDULER_ROUTE_PREFIX = '/api/internal/ext-scheduler/install/';
export const BUNDLE_ROUTE_PREFIX = '/api/internal/ext-bundles/sha256/';
const SCHEDULER_BODY_LIMIT = 1024 * 1024; // a payload is at most 100 000 chars
const PLATFORM_API_BODY_LIMIT = 1024 * 1024;
const UNAUTHORIZED_PLATFORM_REPLY = { error: 'Invalid runner token', code: 'UNAUTHORIZED' };

export interface InternalApiOptions {
  pool: pg.Pool;
  scheduler: SchedulerOperationDeps;
  /** The shared runner token; without one every request is refused (as production). */
  token: string | undefined;
  /** clients / services / invoicing: the local platform's data and clock; default an empty platform. */
  platformApi?: PlatformApiDeps;
  /** NODE_ENV=production: a well-known default token refuses every request
   * (docs/production-contract.md#runner-auth). */
  production?: boolean;
}

/** `x-runner-auth` against the server's token (docs/production-contract.md#runner-auth). */
export function authorized(req: IncomingMessage, token: string | undefined, production = false): boolean {
  if (token === undefined || (production && WEAK_TOKENS.includes(token))) return false;
  const given = req.headers['x-runner-auth'];
  return tokensEqual(Array.isArray(given) ? given[0] : given, token);
}

/** installId: the path segment after /install/, URI-decoded (production's route param). */
function installIdFrom(url: URL, prefix = SCHEDULER_ROUTE_PREFIX): string {
  const seg = url.pathname.slice(prefix.length).split('/')[0] ?? '';
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

export function internalApiRoutes(opts: InternalApiOptions): Route[] {
  async function scheduler(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!authorized(req, opts.token, opts.production)) {
      sendJson(res, UNAUTHORIZED_REPLY.status, UNAUTHORIZED_REPLY.body);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, SCHEDULER_BODY_LIMIT)).toString('utf8'));
    } catch (e) {
      if (e instanceof HttpError && e.status === 413) {
        sendJson(res, 413, { error: 'Request body too large', code: 'PAYLOAD_TOO_LARGE', details: null });
        return;
      }
      sendJson(res, INVALID_JSON_REPLY.status, INVALID_JSON_REPLY.body);
      return;
    }
    // A runner that gave up (its execution timed out) closes the request: roll back, do not commit.
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const reply = await handleSchedulerOperation(opts.scheduler, installIdFrom(url), body, gone.signal);
    sendJson(res, reply.status, reply.body, reply.status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {});
  }

  async function bundle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!authorized(req, opts.token, opts.production)) {
      sendJson(res, UNAUTHORIZED_REPLY.status, UNAUTHORIZED_REPLY.body);
      return;
    }
    const hex = url.pathname.slice(BUNDLE_ROUTE_PREFIX.length).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      sendJson(res, 400, { error: 'Invalid content hash', code: 'VALIDATION_FAILED', details: null });
      return;
    }
    const bytes = await loadBundle(opts.pool, hex);
    if (!bytes) {
      sendJson(res, 404, { error: 'Bundle not found', code: 'NOT_FOUND', details: null });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/wasm', 'content-length': bytes.length });
    res.end(bytes);
  }

  /** clients / services (and invoicing): production's route reads a body that is not JSON as
   * `undefined`, which the operation check answers with its 400. */
  function platformApi(prefix: string, handler: (installId: string, body: unknown) => Promise<InternalReply>) {
    return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
      if (!authorized(req, opts.token, opts.production)) {
        sendJson(res, 401, UNAUTHORIZED_PLATFORM_REPLY);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, PLATFORM_API_BODY_LIMIT)).toString('utf8'));
      } catch (e) {
        if (e instanceof HttpError && e.status === 413) {
          sendJson(res, 413, { error: 'Request body too large', code: 'PAYLOAD_TOO_LARGE' });
          return;
        }
        body = undefined;
      }
      const reply = await handler(installIdFrom(url, prefix), body);
      sendJson(res, reply.status, reply.body);
    };
  }
  const platformDeps: PlatformApiDeps = opts.platformApi ?? { pool: opts.pool, data: EMPTY_PLATFORM_DATA, logger: opts.scheduler.logger };
  const platformRoutes: Route[] = [];
  for (const api of PLATFORM_APIS) {
    const handler = PLATFORM_API_HANDLERS[api];
    const prefix = platformApiRoutePrefix(api);
    platformRoutes.push({ method: 'POST', path: prefix, handle: platformApi(prefix, (id, b) => handler(platformDeps, id, b)) });
  }

  return [
    { method: 'POST', path: SCHEDULER_ROUTE_PREFIX, handle: scheduler },
    ...platformRoutes,
    { method: 'GET', path: BUNDLE_ROUTE_PREFIX, handle: bundle },
  ];
}
