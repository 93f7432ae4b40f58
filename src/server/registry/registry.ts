/**
 * Registry and installs: extension → version → bundle (component bytes by content hash) →
 * materialized endpoints → tenant install with its capabilities (docs/production-contract.md#tables, #capabilities).
 */
import type pg from 'pg';
import { contentHashHex, contentHashOf } from '../../shared/content-hash.js';
import { coerceCapabilities, DEFAULT_CAPABILITIES, type Capability } from '../../shared/capabilities.js';
import { withTransaction, type Queryable } from '../db/database.js';
import { materializeEndpoints } from './endpoints.js';
import { envelopeFromRow, secretEnvelopeColumn, type SecretEnvelope } from '../secrets/install-secrets.js';
import { publisherOf, type Manifest } from './manifest.js';
import { isGuid } from '../../shared/uuid.js';

export interface RegisteredVersion {
  registryId: string;
  versionId: string;
  /** `sha256:<hex>` */
  contentHash: string;
}


/**
 * Registers (or refreshes) a manifest's version and stores its component. Re-registering the same
 * version with new bytes adds a bundle (the newest is current); a changed endpoint list is
 * re-materialized, keeping endpoint ids for unchanged (method, path).
 */
export async function registerExtension(pool: pg.Pool, manifest: Manifest, component: Uint8Array): Promise<RegisteredVersion> {
  const contentHash = contentHashOf(component);
  return withTransaction(pool, async (c) => {
    const registry = await c.query<{ id: string }>(
      `INSERT INTO extension_registry (publisher, name, display_name, description)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (publisher, name) DO UPDATE SET display_name = EXCLUDED.display_name,
         description = EXCLUDED.description, updated_at = now()
       RETURNING id`,
      [publisherOf(manifest), manifest.name, manifest.displayName ?? null, manifest.description ?? null],
    );
    const registryId = registry.rows[0]!.id;
    const endpoints = manifest.api.endpoints.map(({ method, path, handler }) => ({ method, path, handler }));
    const version = await c.query<{ id: string }>(
      `INSERT INTO extension_version (registry_id, version, runtime, main_entry, api, capabilities, api_endpoints)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (registry_id, version) DO UPDATE SET runtime = EXCLUDED.runtime, main_entry = EXCLUDED.main_entry,
         api = EXCLUDED.api, capabilities = EXCLUDED.capabilities, api_endpoints = EXCLUDED.api_endpoints
       RETURNING id`,
      [registryId, manifest.version, manifest.runtime, manifest.main, JSON.stringify({ endpoints: manifest.api.endpoints }),
        JSON.stringify(manifest.capabilities), JSON.stringify(endpoints)],
    );
    const versionId = version.rows[0]!.id;
    await storeBundleBlob(c, contentHash, component);
    // Re-inserting an existing (version, hash) moves it to newest, so it becomes current again.
    await c.query(
      `INSERT INTO extension_bundle (version_id, content_hash, size_bytes, storage_url)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (version_id, content_hash) DO UPDATE SET created_at = clock_timestamp()`,
      [versionId, contentHash, component.length, `db:extension_bundle_blob/${contentHash}`],
    );
    await materializeEndpoints(c, versionId);
    return { registryId, versionId, contentHash };
  });
}

/** Stores component bytes by content hash; bytes already stored are not sent again (they are ~12 MB). */
export async function storeBundleBlob(q: Queryable, contentHash: string, component: Uint8Array): Promise<void> {
  const have = await q.query(`SELECT 1 FROM extension_bundle_blob WHERE content_hash = $1`, [contentHash]);
  if (have.rowCount) return;
  await q.query(`INSERT INTO extension_bundle_blob (content_hash, bytes) VALUES ($1, $2) ON CONFLICT (content_hash) DO NOTHING`, [contentHash, Buffer.from(component)]);
}

export interface InstallOptions {
  tenantId: string;
  registryId: string;
  versionId: string;
  /** Capabilities granted at install (production's `granted_caps`). */
  grantedCaps?: string[];
  /** Exactly these (plus the defaults) instead of production's union rule. */
  capabilitiesOverride?: string[] | null;
  config?: Record<string, string>;
}

/** Installs for a tenant (one install per extension per tenant), or updates and re-enables it. */
export async function installExtension(q: Queryable, o: InstallOptions): Promise<{ installId: string }> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO tenant_extension_install (tenant_id, registry_id, version_id, granted_caps, config, capabilities_override)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, registry_id) DO UPDATE SET version_id = EXCLUDED.version_id,
       granted_caps = EXCLUDED.granted_caps, config = EXCLUDED.config,
       capabilities_override = EXCLUDED.capabilities_override,
       is_enabled = true, status = 'enabled', updated_at = now()
     RETURNING id`,
    [o.tenantId, o.registryId, o.versionId, JSON.stringify(o.grantedCaps ?? []), JSON.stringify(o.config ?? {}),
      o.capabilitiesOverride ? JSON.stringify(o.capabilitiesOverride) : null],
  );
  const installId = r.rows[0]!.id;
  await q.query(
    `INSERT INTO tenant_extension_install_config (install_id, tenant_id, config, providers)
     VALUES ($1, $2, $3, '[]') ON CONFLICT (install_id) DO UPDATE SET config = EXCLUDED.config, updated_at = now()`,
    [installId, o.tenantId, JSON.stringify(o.config ?? {})],
  );
  return { installId };
}

/** What the platform needs to execute for an install (production's hydrated install config). */
export interface InstallRuntime {
  installId: string;
  tenantId: string;
  registryId: string;
  versionId: string;
  extensionName: string;
  contentHash: string;
  providers: Capability[];
  config: Record<string, string>;
  enabled: boolean;
  endpoints: { method: string; path: string }[];
  /** The install's secrets as production's execute request carries them; absent without secrets. */
  secretEnvelope?: SecretEnvelope;
}


/** providers = defaults ∪ config.providers ∪ granted_caps ∪ version.capabilities
 * (docs/production-contract.md#capabilities),
 * unless the install carries an explicit override. Unknown names are dropped. */
export function resolveInstallProviders(row: {
  config_providers: unknown;
  granted_caps: unknown;
  version_caps: unknown;
  capabilities_override: unknown;
}): Capability[] {
  const set = new Set<Capability>(DEFAULT_CAPABILITIES);
  const sources = row.capabilities_override != null ? [row.capabilities_override] : [row.config_providers, row.granted_caps, row.version_caps];
  for (const s of sources) for (const c of coerceCapabilities(s)) set.add(c);
  return [...set];
}

function stringConfig(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

const INSTALL_SELECT = `SELECT i.id, i.tenant_id, i.registry_id, i.version_id, i.granted_caps, i.config, i.is_enabled, i.status,
            i.capabilities_override, r.name, v.capabilities AS version_caps, c.providers AS config_providers,
            (SELECT b.content_hash FROM extension_bundle b WHERE b.version_id = i.version_id
              ORDER BY b.created_at DESC LIMIT 1) AS content_hash,
            (SELECT coalesce(json_agg(json_build_object('method', e.method, 'path', e.path) ORDER BY e.path, e.method), '[]')
               FROM extension_api_endpoint e WHERE e.version_id = i.version_id) AS endpoints,
            ${secretEnvelopeColumn('i')}
       FROM tenant_extension_install i
       JOIN extension_registry r ON r.id = i.registry_id
       JOIN extension_version v ON v.id = i.version_id
       LEFT JOIN tenant_extension_install_config c ON c.install_id = i.id`;

/** A row of INSTALL_SELECT. */
function installRuntimeOf(row: any): InstallRuntime {
  return {
    installId: row.id,
    tenantId: row.tenant_id,
    registryId: row.registry_id,
    versionId: row.version_id,
    extensionName: row.name,
    contentHash: row.content_hash,
    providers: resolveInstallProviders(row),
    config: stringConfig(row.config),
    enabled: row.is_enabled === true && row.status === 'enabled',
    endpoints: row.endpoints,
    secretEnvelope: envelopeFromRow(row.secret_envelope),
  };
}

/** The version a tenant's install of this extension is on, or null when it has none. */
export async function installedVersionId(q: Queryable, tenantId: string, registryId: string): Promise<string | null> {
  const res = await q.query<{ version_id: string }>(`SELECT version_id FROM tenant_extension_install WHERE tenant_id = $1 AND registry_id = $2`, [
    tenantId,
    registryId,
  ]);
  return res.rows[0]?.version_id ?? null;
}

/** The tenants other than `except` that have an install of this extension, in id order. */
export async function otherInstallTenants(q: Queryable, registryId: string, except: string): Promise<string[]> {
  const res = await q.query<{ tenant_id: string }>(
    `SELECT tenant_id FROM tenant_extension_install WHERE registry_id = $1 AND tenant_id <> $2 ORDER BY tenant_id`,
    [registryId, except],
  );
  return res.rows.map((r) => r.tenant_id);
}

/**
 * A tenant's install of an extension named by registry id, manifest name, or `publisher.name`
 * (compared lowercase). Null when not installed.
 */
export async function findInstall(q: Queryable, tenantId: string, extension: string): Promise<InstallRuntime | null> {
  const byId = isGuid(extension);
  const r = await q.query(
    `${INSTALL_SELECT}
      WHERE i.tenant_id = $1
        AND ${byId ? 'i.registry_id = $2::uuid' : `(lower(r.name) = lower($2) OR lower(r.publisher || '.' || r.name) = lower($2))`}
      LIMIT 1`,
    [tenantId, extension],
  );
  return r.rows[0] ? installRuntimeOf(r.rows[0]) : null;
}

/** An install by its id (production's install config by install id); null when unknown or not a UUID. */
export async function findInstallById(q: Queryable, installId: string): Promise<InstallRuntime | null> {
  if (!isGuid(installId)) return null;
  const r = await q.query(`${INSTALL_SELECT} WHERE i.id = $1::uuid`, [installId]);
  return r.rows[0] ? installRuntimeOf(r.rows[0]) : null;
}

/** Component bytes by content hash (`sha256:<hex>` or bare hex), or null. */
export async function loadBundle(q: Queryable, contentHash: string): Promise<Uint8Array | null> {
  const hex = contentHashHex(contentHash);
  const r = await q.query<{ bytes: Buffer }>(`SELECT bytes FROM extension_bundle_blob WHERE content_hash = $1`, [`sha256:${hex}`]);
  return r.rows[0] ? new Uint8Array(r.rows[0].bytes) : null;
}
