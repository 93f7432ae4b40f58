/**
 * HTTP face of the schedule admin operations, on the platform server:
 *   GET  /api/admin/extensions/schedules?extension=E&tenant=T → 200 {schedules: [...]} (cron in words, next 3)
 *   POST /api/admin/extensions/schedules/{id}/run-now?at=ISO → 202 {scheduleId, jobId, requestedAt}
 *   GET  /api/admin/extensions/schedules/{id}/runs?limit=N   → 200 {runs: [...]}
 *   GET  /api/admin/extensions/schedules/{id}/next?count=N   → 200 {cron, timezone, occurrences: [...]}
 * `?tenant=` narrows any of them to one tenant. Errors are JSON `{error: code, message}`.
 * Auth: `Authorization: Bearer $ALGA_ADMIN_TOKEN` (or `x-alga-admin-token`). With no token configured
 * the routes answer only loopback callers (local development), and nobody when NODE_ENV=production.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokensEqual } from '../../shared/auth.js';
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Route } from '../../shared/http-server.js';
import { AdminError, type ScheduleAdmin } from './admin.js';

export const ADMIN_SCHEDULES_PREFIX = '/api/admin/extensions/schedules/';

export interface AdminRouteOptions {
  admin: ScheduleAdmin;
  /** ALGA_ADMIN_TOKEN; undefined → loopback only (refused entirely when `production`). */
  token: string | undefined;
  production?: boolean;
}

function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
}

function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const h = req.headers['x-alga-admin-token'];
  return Array.isArray(h) ? h[0] : h;
}

export function checkAdminAuth(req: IncomingMessage, o: Pick<AdminRouteOptions, 'token' | 'production'>): void {
  if (o.token) {
    if (!tokensEqual(presentedToken(req), o.token)) throw new HttpError(401, 'unauthorized', 'Missing or invalid admin token');
    return;
  }
  if (o.production) throw new HttpError(403, 'admin_disabled', 'Admin API disabled: set ALGA_ADMIN_TOKEN');
  if (!isLoopback(req)) throw new HttpError(403, 'forbidden', 'Without ALGA_ADMIN_TOKEN the admin API answers loopback callers only');
}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new HttpError(400, 'invalid_argument', `${name} must be an integer`);
  return n;
}

/** An ISO 8601 instant with its offset (`2026-12-03T09:00:00Z`, `…+01:00`), or undefined. */
function instantParam(url: URL, name: string): Date | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(v) || !Number.isFinite(d.getTime())) {
    throw new HttpError(400, 'invalid_argument', `${name} must be an ISO 8601 instant with its offset, e.g. 2026-12-03T09:00:00Z (got "${v}")`);
  }
  return d;
}

export function adminScheduleRoutes(o: AdminRouteOptions): Route[] {
  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    checkAdminAuth(req, o);
    const [rawId, action, ...rest] = url.pathname.slice(ADMIN_SCHEDULES_PREFIX.length).split('/');
    let id = rawId ?? '';
    try {
      id = decodeURIComponent(id);
    } catch {
      /* malformed %-escape: not a UUID, so `invalid_schedule_id` (400), not a 500 */
    }
    const tenantId = url.searchParams.get('tenant') ?? undefined;
    try {
      if (rest.length === 0 && action === 'run-now' && req.method === 'POST') {
        sendJson(res, 202, await o.admin.runNow(id, { tenantId, at: instantParam(url, 'at') }));
        return;
      }
      if (rest.length === 0 && action === 'runs' && req.method === 'GET') {
        sendJson(res, 200, { runs: await o.admin.listRuns(id, { tenantId, limit: intParam(url, 'limit') }) });
        return;
      }
      if (rest.length === 0 && action === 'next' && req.method === 'GET') {
        sendJson(res, 200, await o.admin.nextOccurrences(id, { tenantId, count: intParam(url, 'count') }));
        return;
      }
    } catch (err) {
      if (err instanceof AdminError) throw new HttpError(err.status, err.code, err.message);
      throw err;
    }
    throw new HttpError(404, 'not_found', `no admin route for ${req.method} ${url.pathname}`);
  }
  const boundedNext = (n: number | undefined) => {
    if (n !== undefined && (n < 0 || n > 10)) throw new HttpError(400, 'invalid_argument', 'next must be an integer from 0 to 10');
    return n;
  };
  async function list(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    checkAdminAuth(req, o);
    const schedules = await o.admin.listSchedules({
      extension: url.searchParams.get('extension') || undefined,
      tenantId: url.searchParams.get('tenant') || undefined,
      next: boundedNext(intParam(url, 'next')),
    });
    sendJson(res, 200, { schedules });
  }
  return [
    { method: 'GET', path: ADMIN_SCHEDULES_PREFIX.slice(0, -1), handle: list },
    { path: ADMIN_SCHEDULES_PREFIX, handle },
  ];
}
