import type { Queryable } from '../db/database.js';
import { materializeEndpoints, normalizeEndpointPath } from '../registry/endpoints.js';

export interface ResolvedEndpoint {
  id: string;
  method: string;
  path: string;
}

/** `"METHOD /path"` → method + path; anything else is a bare path (`"sync"` → `/sync`). null for a
 * selector that can name no endpoint (a NUL character, which Postgres cannot even compare). */
export function parseEndpointSelector(selector: string): { method: string | null; path: string } | null {
  const s = selector.trim();
  if (s.includes('\0')) return null;
  const m = /^([A-Za-z]+)\s+(.+)$/.exec(s);
  if (m) return { method: m[1].toUpperCase(), path: normalizeEndpointPath(m[2]) };
  return { method: null, path: normalizeEndpointPath(s) };
}

// Production takes the first row with no ORDER BY, so a bare path that has both GET and POST picks
// either (docs/production-contract.md#scheduler-endpoints). alga_find_schedule_endpoint (migration 004) orders by method, so such a
// selector always means GET; "POST /path" selects the POST. The create statement uses it too.
async function findEndpoint(q: Queryable, versionId: string, method: string | null, path: string) {
  const res = await q.query<ResolvedEndpoint & { schedulable: boolean }>(
    'SELECT id, method, path, schedulable FROM alga_find_schedule_endpoint($1, $2, $3)',
    [versionId, method, path],
  );
  return res.rows[0] ?? null;
}

/**
 * docs/production-contract.md#scheduler-endpoints: the install version's schedulable endpoint named by `selector`, or null.
 * On a miss the version's endpoints are materialized and the lookup retried once.
 * @example resolveScheduleEndpoint(q, versionId, 'POST /sync') // → { id, method: 'POST', path: '/sync' }
 */
export async function resolveScheduleEndpoint(q: Queryable, versionId: string, selector: string): Promise<ResolvedEndpoint | null> {
  const parsed = parseEndpointSelector(selector);
  if (!parsed) return null;
  const { method, path } = parsed;
  let hit = await findEndpoint(q, versionId, method, path);
  if (!hit) {
    await materializeEndpoints(q, versionId);
    hit = await findEndpoint(q, versionId, method, path);
  }
  if (!hit?.schedulable) return null;
  return { id: hit.id, method: hit.method, path: hit.path };
}
