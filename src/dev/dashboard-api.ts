/**
 * `dev`'s dashboard: the page at `/` and the admin routes it needs beyond the schedule ones
 * (`/api/admin/extensions/schedules…`, which the CLI uses too). Same guard as every admin route:
 * `Authorization: Bearer $ALGA_ADMIN_TOKEN`, or loopback callers only when no token is set.
 *   GET    /                                          the page (no build step, no CDN)
 *   GET    /api/admin/dev/overview                    installs (version, capabilities, content hash,
 *                                                     endpoints, storage, secret keys) + executions
 *   POST   /api/admin/dev/schedules/{id}/enable|disable
 *   DELETE /api/admin/dev/schedules/{id}
 *   DELETE /api/admin/dev/storage/{installId}/{namespace}/{key}   (segments URI-encoded) through the
 *                                                     storage service, so `ext_storage_usage` stays exact
 *   POST   /api/admin/dev/executions/{requestId}/replay   the same gateway request again, with a fresh
 *                                                     idempotency key (so it really runs) and request id
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Platform } from '../platform.js';
import { checkAdminAuth } from '../server/execution/admin-routes.js';
import { resolveInstallProviders } from '../server/registry/registry.js';
import { listInstallSecretKeys } from '../server/secrets/install-secrets.js';
import { createStorageService, StorageServiceError } from '../server/storage/service.js';
import { HttpError, sendJson } from '../shared/http-error.js';
import type { Route } from '../shared/http-server.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import type { ExecutionLog } from './execution-log.js';
import type { RequestLog } from './request-log.js';
import { randomUUID } from 'node:crypto';
import { isGuid } from '../shared/uuid.js';
import { GATEWAY_PREFIX } from '../server/http/gateway.js';

export interface DashboardOptions {
  /** The platform, once started (routes exist before it does). */
  platform: () => Platform | undefined;
  executions: ExecutionLog;
  /** The last gateway requests, for replay. */
  requests?: RequestLog;
  token: string | undefined;
  production?: boolean;
}


export function dashboardRoutes(o: DashboardOptions): Route[] {
  const guard = (req: IncomingMessage, url: URL) => {
    // The page passes a token it was opened with (`/?token=…`) on as a header.
    if (o.token && !req.headers.authorization && url.searchParams.get('token')) req.headers.authorization = `Bearer ${url.searchParams.get('token')}`;
    checkAdminAuth(req, o);
  };
  const need = () => {
    const p = o.platform();
    if (!p) throw new HttpError(503, 'starting', 'the platform is still starting');
    return p;
  };

  async function overview(p: Platform) {
    const installs = await p.pool.query(
      `SELECT i.id, i.tenant_id, r.name, r.id AS registry_id, v.version, v.id AS version_id, i.granted_caps, i.capabilities_override,
              v.capabilities AS version_caps, c.providers AS config_providers, i.is_enabled, i.status,
              (SELECT b.content_hash FROM extension_bundle b WHERE b.version_id = i.version_id ORDER BY b.created_at DESC LIMIT 1) AS content_hash
         FROM tenant_extension_install i
         JOIN extension_registry r ON r.id = i.registry_id
         JOIN extension_version v ON v.id = i.version_id
         LEFT JOIN tenant_extension_install_config c ON c.install_id = i.id
        ORDER BY i.tenant_id, r.name`,
    );
    const out = [];
    for (const row of installs.rows) {
      const endpoints = await p.pool.query<{ method: string; path: string; schedulable: boolean }>(
        `SELECT method, path, alga_endpoint_schedulable(method, path) AS schedulable FROM extension_api_endpoint WHERE version_id = $1 ORDER BY path, method`,
        [row.version_id],
      );
      const storage = await p.pool.query<{ namespace: string; key: string; revision: string; value: unknown; updated_at: Date }>(
        `SELECT namespace, key, revision, value, updated_at FROM ext_storage_records
          WHERE tenant = $1 AND extension_install_id = $2 ORDER BY namespace, key LIMIT 500`,
        [row.tenant_id, row.id],
      ).catch(() => ({ rows: [] as { namespace: string; key: string; revision: string; value: unknown; updated_at: Date }[] }));
      out.push({
        installId: row.id,
        tenantId: row.tenant_id,
        extension: row.name,
        registryId: row.registry_id,
        version: row.version,
        enabled: row.is_enabled === true && row.status === 'enabled',
        capabilities: resolveInstallProviders(row),
        contentHash: row.content_hash,
        endpoints: endpoints.rows.map((e) => ({
          method: e.method,
          path: e.path,
          schedulable: e.schedulable === true,
          whyNot: e.schedulable ? null : !['GET', 'POST'].includes(e.method.toUpperCase()) ? `${e.method} (schedules call GET or POST)` : 'a path parameter (a schedule calls a fixed path)',
        })),
        storage: storage.rows.map((s) => ({ namespace: s.namespace, key: s.key, revision: Number(s.revision), value: s.value, updatedAt: s.updated_at.toISOString() })),
        secretKeys: await listInstallSecretKeys(p.pool, row.id).catch(() => []),
      });
    }
    return { installs: out, executions: o.executions.list().map((e) => ({ ...e, replayable: o.requests?.has(e.requestId) ?? false })) };
  }

  /** The install context of a schedule (for the scheduler service, which checks the install). */
  async function scheduleContext(p: Platform, id: string) {
    if (!isGuid(id)) throw new HttpError(400, 'invalid_schedule_id', 'Invalid scheduleId');
    const r = await p.pool.query<{ tenant_id: string; install_id: string; version_id: string; registry_id: string }>(
      `SELECT s.tenant_id, s.install_id, i.version_id, i.registry_id FROM tenant_extension_schedule s
         JOIN tenant_extension_install i ON i.id = s.install_id WHERE s.id = $1`,
      [id],
    );
    const row = r.rows[0];
    if (!row) throw new HttpError(404, 'schedule_not_found', 'Schedule not found');
    return { tenantId: row.tenant_id, installId: row.install_id, versionId: row.version_id, registryId: row.registry_id };
  }

  const mutation = (res: ServerResponse, r: { success: boolean; error?: string; fieldErrors?: Record<string, string> }) =>
    r.success ? sendJson(res, 200, r) : sendJson(res, 400, { error: 'schedule_update_failed', message: r.error, fieldErrors: r.fieldErrors });

  const STORAGE_PREFIX = '/api/admin/dev/storage/';
  async function deleteStorageKey(p: Platform, res: ServerResponse, pathname: string) {
    const parts = pathname.slice(STORAGE_PREFIX.length).split('/');
    if (parts.length !== 3) throw new HttpError(404, 'not_found', `expected ${STORAGE_PREFIX}{installId}/{namespace}/{key}`);
    let installId: string, namespace: string, key: string;
    try {
      [installId, namespace, key] = parts.map((x) => decodeURIComponent(x)) as [string, string, string];
    } catch {
      throw new HttpError(400, 'invalid_path', 'a path segment is not valid URI encoding');
    }
    if (!isGuid(installId)) throw new HttpError(400, 'invalid_install_id', 'installId must be a UUID');
    const service = createStorageService({ pool: p.pool, now: () => p.clock.now() });
    try {
      if (!(await service.delete(installId, namespace, key))) throw new HttpError(404, 'storage_key_not_found', `no key "${key}" in namespace "${namespace}"`);
    } catch (e) {
      if (!(e instanceof StorageServiceError)) throw e;
      const status = e.code === 'NOT_FOUND' ? 404 : e.code === 'VALIDATION_FAILED' || e.code === 'LIMIT_EXCEEDED' ? 400 : 409;
      throw new HttpError(status, e.code.toLowerCase(), e.message);
    }
    sendJson(res, 200, { deleted: { installId, namespace, key } });
  }

  const REPLAY = /^\/api\/admin\/dev\/executions\/([^/]+)\/replay$/;
  async function replay(p: Platform, res: ServerResponse, requestId: string) {
    const r = o.requests?.get(requestId);
    if (!r) throw new HttpError(404, 'replay_not_found', `request ${requestId} is not among the last gateway requests kept (only gateway requests, bodies up to 1 MiB)`);
    if (!p.url) throw new HttpError(503, 'no_server', 'the platform has no HTTP server');
    const headers: Record<string, string> = { ...r.headers, 'x-alga-tenant': r.tenant, 'x-idempotency-key': randomUUID() };
    delete headers['x-request-id'];
    const answer = await fetch(`${p.url}${GATEWAY_PREFIX}${encodeURIComponent(r.extension)}${r.path}${r.search}`, { method: r.method, headers, body: r.body ? new Uint8Array(r.body) : undefined });
    const text = await answer.text();
    sendJson(res, 200, { replayOf: requestId, requestId: answer.headers.get('x-request-id'), status: answer.status, body: text.length > 65_536 ? `${text.slice(0, 65_536)}…` : text });
  }

  return [
    {
      method: 'POST',
      path: '/api/admin/dev/executions/',
      handle: async (req, res, url) => {
        guard(req, url);
        const m = REPLAY.exec(url.pathname);
        if (!m) throw new HttpError(404, 'not_found', `no route for ${req.method} ${url.pathname}`);
        await replay(need(), res, decodeURIComponent(m[1]!));
      },
    },
    {
      method: 'DELETE',
      path: STORAGE_PREFIX,
      handle: async (req, res, url) => {
        guard(req, url);
        await deleteStorageKey(need(), res, url.pathname);
      },
    },
    {
      method: 'GET',
      path: '/api/admin/dev/overview',
      handle: async (req, res, url) => {
        guard(req, url);
        sendJson(res, 200, await overview(need()));
      },
    },
    {
      path: '/api/admin/dev/schedules/',
      handle: async (req, res, url) => {
        guard(req, url);
        const p = need();
        const [id = '', action, ...rest] = url.pathname.slice('/api/admin/dev/schedules/'.length).split('/');
        if (rest.length === 0 && req.method === 'POST' && (action === 'enable' || action === 'disable')) {
          return mutation(res, await p.scheduler.update(await scheduleContext(p, id), id, { enabled: action === 'enable' }));
        }
        if (rest.length === 0 && action === undefined && req.method === 'DELETE') return mutation(res, await p.scheduler.delete(await scheduleContext(p, id), id));
        throw new HttpError(404, 'not_found', `no route for ${req.method} ${url.pathname}`);
      },
    },
    {
      method: 'GET',
      path: '/',
      // Last of the server's routes, and a prefix: every GET nothing else answered reaches it.
      handle: async (req, res, url) => {
        if (url.pathname !== '/') throw new HttpError(404, 'not_found', `no route for ${req.method} ${url.pathname}`);
        guard(req, url);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(DASHBOARD_HTML);
      },
    },
  ];
}
