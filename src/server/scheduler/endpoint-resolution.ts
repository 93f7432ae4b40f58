import type { Queryable } from '../db/database.js';
import { materializeEndpoints, normalizeEndpointPath } from '../registry/endpoints.js';

export interface ResolvedEndpoint {
  id: string;
  method: string;
  path: string;
}

export const SCHEDULABLE_METHODS = ['GET', 'POST'] as const;

/** Production's v1 rule: GET or POST, and no path parameter (`:` anywhere, `{`, `}`). */
export function isSchedulable(method: string, path: string): boolean {
  return (SCHEDULABLE_METHODS as readonly string[]).includes(method.toUpperCase()) && !/[:{}]/.test(path);
}

/** `"METHOD /path"` → method + path; anything else is a bare path (`"sync"` → `/sync`). */
export function parseEndpointSelector(selector: string): { method: string | null; path: string } {
  const s = selector.trim();
  const m = /^([A-Za-z]+)\s+(.+)$/.exec(s);
  if (m) return { method: m[1].toUpperCase(), path: normalizeEndpointPath(m[2]) };
  return { method: null, path: normalizeEndpointPath(s) };
}

// Production takes the first row with no ORDER BY, so a bare path that has both GET and POST picks
// either (SPEC §4.9 #7). We order by method, so such a selector always means GET; "POST /path"
// selects the POST. The path may also be stored without its leading slash (older rows).
function findEndpointSql(): string {
  return `SELECT id, method, path FROM extension_api_endpoint
    WHERE version_id = $1
      AND (path = $2 OR path = $3)
      AND (method = $4 OR ($4::text IS NULL AND method IN ('GET', 'POST')))
    ORDER BY method ASC, path ASC
    LIMIT 1`;
}

async function findEndpoint(q: Queryable, versionId: string, method: string | null, path: string) {
  const res = await q.query<ResolvedEndpoint>(findEndpointSql(), [versionId, path, path.slice(1), method]);
  return res.rows[0] ?? null;
}

/**
 * SPEC §4.6: the install version's schedulable endpoint named by `selector`, or null.
 * On a miss the version's endpoints are materialized and the lookup retried once.
 * @example resolveScheduleEndpoint(q, versionId, 'POST /sync') // → { id, method: 'POST', path: '/sync' }
 */
export async function resolveScheduleEndpoint(q: Queryable, versionId: string, selector: string): Promise<ResolvedEndpoint | null> {
  const { method, path } = parseEndpointSelector(selector);
  let hit = await findEndpoint(q, versionId, method, path);
  if (!hit) {
    await materializeEndpoints(q, versionId);
    hit = await findEndpoint(q, versionId, method, path);
  }
  if (!hit || !isSchedulable(hit.method, hit.path)) return null;
  return hit;
}
