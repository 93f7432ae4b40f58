import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface FixtureEndpoint {
  method: string;
  path: string;
  handler: string;
}

export interface InstalledExtension {
  tenantId: string;
  installId: string;
  versionId: string;
  registryId: string;
}

export const DEFAULT_ENDPOINTS: FixtureEndpoint[] = [
  { method: 'GET', path: '/status', handler: 'status' },
  { method: 'POST', path: '/sync', handler: 'sync' },
  { method: 'PUT', path: '/items', handler: 'items' },
  { method: 'DELETE', path: '/items', handler: 'items' },
  { method: 'GET', path: '/items/:id', handler: 'item' },
  { method: 'POST', path: '/things/{id}', handler: 'thing' },
];

export interface InsertInstallOptions {
  tenantId?: string;
  /** Written to extension_version.api_endpoints and materialized as rows (unless `materialize: false`). */
  endpoints?: FixtureEndpoint[];
  materialize?: boolean;
  enabled?: boolean;
  status?: 'enabled' | 'disabled' | 'pending';
}

/** A registry → version → endpoint rows → tenant install chain, as the registry would write it. */
export async function insertInstall(pool: pg.Pool, opts: InsertInstallOptions = {}): Promise<InstalledExtension> {
  const tenantId = opts.tenantId ?? `tenant-${randomUUID().slice(0, 8)}`;
  const endpoints = opts.endpoints ?? DEFAULT_ENDPOINTS;
  const registry = await pool.query<{ id: string }>(
    `INSERT INTO extension_registry (publisher, name) VALUES ($1, $2) RETURNING id`,
    ['acme', `ext-${randomUUID()}`],
  );
  const registryId = registry.rows[0].id;
  const version = await pool.query<{ id: string }>(
    `INSERT INTO extension_version (registry_id, version, runtime, main_entry, api_endpoints, capabilities)
     VALUES ($1, '1.0.0', 'wasm-js@1', 'dist/main.wasm', $2::jsonb, '["cap:scheduler.manage"]') RETURNING id`,
    [registryId, JSON.stringify(endpoints)],
  );
  const versionId = version.rows[0].id;
  if (opts.materialize !== false) {
    for (const e of endpoints) {
      await pool.query(
        `INSERT INTO extension_api_endpoint (version_id, method, path, handler) VALUES ($1, $2, $3, $4)
         ON CONFLICT (version_id, method, path) DO UPDATE SET handler = EXCLUDED.handler`,
        [versionId, e.method, e.path, e.handler],
      );
    }
  }
  const install = await pool.query<{ id: string }>(
    `INSERT INTO tenant_extension_install (tenant_id, registry_id, version_id, is_enabled, status)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [tenantId, registryId, versionId, opts.enabled ?? true, opts.status ?? 'enabled'],
  );
  return { tenantId, installId: install.rows[0].id, versionId, registryId };
}

/** Inserts schedule rows directly (no job), e.g. to fill an install up to its quota. */
export async function insertSchedules(pool: pg.Pool, inst: InstalledExtension, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO tenant_extension_schedule (install_id, tenant_id, endpoint_id, cron, enabled)
     SELECT $1, $2, (SELECT id FROM extension_api_endpoint WHERE version_id = $3 ORDER BY method, path LIMIT 1), '0 * * * *', false
     FROM generate_series(1, $4)`,
    [inst.installId, inst.tenantId, inst.versionId, count],
  );
}

/**
 * Every row of every table, by table name (rows in a stable order), for "nothing changed"
 * assertions: a write to any table an operation touches (schedules, jobs, dispatch, run locks,
 * installs, endpoints…) shows, including one to a table added later.
 */
export async function snapshotSchedulerState(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const tables = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.rows) {
    const t = pg.escapeIdentifier(name);
    out[name] = (await pool.query(`SELECT to_jsonb(t) AS row FROM ${t} t ORDER BY to_jsonb(t)::text`)).rows.map((r) => r.row);
  }
  return out;
}
