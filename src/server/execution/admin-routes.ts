/**
 * HTTP face of the schedule admin operations, on the platform server:
 *   POST /api/admin/extensions/schedules/{id}/run-now        → 202 {scheduleId, jobId, requestedAt}
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
        sendJson(res, 202, await o.admin.runNow(id, { tenantId }));
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
  return [{ path: ADMIN_SCHEDULES_PREFIX, handle }];
}
