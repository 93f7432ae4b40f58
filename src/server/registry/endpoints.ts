import type { Queryable } from '../db/database.js';

/** One materialized `extension_api_endpoint` row's content. */
export interface ApiEndpoint {
  method: string;
  path: string;
  handler: string;
}

/**
 * Production's path normalization (docs/production-contract.md#endpoint-materialization): trim, leading `/`, `//+` collapsed.
 * Matching stays case-sensitive and keeps trailing slashes and query text as given.
 * @example normalizeEndpointPath(' sync//run ') === '/sync/run'
 */
export function normalizeEndpointPath(p: string): string {
  return `/${p.trim()}`.replace(/\/{2,}/g, '/');
}

function text(v: unknown): string {
  return v === null || v === undefined ? '' : String(v).trim();
}

/**
 * Reads `extension_version.api_endpoints` with the lazy/update-path rules of production
 * (`endpoints.ts`): array or JSON text (unparsable → []), non-objects skipped, method uppercased,
 * entries with an empty method, path or handler dropped, duplicates by "METHOD path" → last wins.
 * (Production's eager path differs — empty path → `/`, no de-duplication; we use one rule everywhere.)
 */
export function parseApiEndpoints(raw: unknown): ApiEndpoint[] {
  let list: unknown = raw;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  const byKey = new Map<string, ApiEndpoint>();
  for (const entry of list) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const e = entry as Record<string, unknown>;
    const method = text(e.method).toUpperCase();
    const rawPath = text(e.path);
    const handler = text(e.handler);
    if (!method || !rawPath || !handler) continue;
    const path = normalizeEndpointPath(rawPath);
    const key = `${method} ${path}`;
    byKey.delete(key); // keep the surviving entry at the position of its last occurrence
    byKey.set(key, { method, path, handler });
  }
  return [...byKey.values()];
}

function selectVersionEndpointsSql(): string {
  return 'SELECT api_endpoints FROM extension_version WHERE id = $1';
}

// One statement for the whole batch. `updated_at` is a literal computed here, as production does
// (a Citus immutability requirement there); ON CONFLICT keeps each row's id stable across re-runs.
function upsertEndpointsSql(): string {
  return `INSERT INTO extension_api_endpoint (version_id, method, path, handler, created_at, updated_at)
    SELECT $1::uuid, e.method, e.path, e.handler, $3::timestamptz, $3::timestamptz
    FROM jsonb_to_recordset($2::jsonb) AS e(method text, path text, handler text)
    ON CONFLICT (version_id, method, path) DO UPDATE SET handler = EXCLUDED.handler, updated_at = EXCLUDED.updated_at`;
}

/**
 * Upserts the endpoint rows of a version from its `api_endpoints`; returns the rows upserted
 * (0 for an unknown version or an empty list). Safe to run repeatedly and concurrently.
 */
export async function materializeEndpoints(q: Queryable, versionId: string): Promise<number> {
  const version = await q.query<{ api_endpoints: unknown }>(selectVersionEndpointsSql(), [versionId]);
  if (version.rowCount === 0) return 0;
  const endpoints = parseApiEndpoints(version.rows[0].api_endpoints);
  if (endpoints.length === 0) return 0;
  const res = await q.query(upsertEndpointsSql(), [versionId, JSON.stringify(endpoints), new Date()]);
  return res.rowCount ?? 0;
}
