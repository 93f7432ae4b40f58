import type pg from 'pg';
import type { Queryable } from '../db/database.js';
import { ACTIVE_INSTALL_SELECT, type InstallRow } from './schedule-store.js';
import { installContextOf, type InstallContext } from './service.js';
import { isGuid } from '../../shared/uuid.js';

/** Production's numbers: 10 create/update/delete per install per fixed 60 s window
 * (docs/production-contract.md#rate-limit). */
export const MUTATIONS_PER_WINDOW = 10;
export const RATE_WINDOW_MS = 60_000;
/** Production purges entries older than 120 s every 5 minutes. */
export const STALE_AFTER_MS = 120_000;
export const PURGE_EVERY_MS = 5 * 60_000;

/**
 * Admission of one internal-API call, in one statement (one round trip): the active install
 * (`is_enabled AND status = 'enabled'`) and, for a mutation ($5), one count in its window. Every
 * process shares the counter (docs/differences.md#shared-rate-limit); an unknown or inactive install is never counted.
 * Production's fixed window: it starts at the first counted call; calls are counted until the count
 * reaches the limit; later calls in the window are rejected and not counted. We store limit + 1 to
 * mark "saturated", which is how the caller learns it was rejected without a second statement.
 * $2 is the caller's clock or null for the database's (one clock for every process).
 */
function admitSql(): string {
  return `WITH install AS (${ACTIVE_INSTALL_SELECT}), counted AS (
      INSERT INTO extension_scheduler_rate_limit AS r (install_id, window_start, count)
      SELECT id, COALESCE($2::timestamptz, clock_timestamp()), 1 FROM install WHERE $5::boolean
      ON CONFLICT (install_id) DO UPDATE SET
        window_start = CASE WHEN r.window_start <= EXCLUDED.window_start - make_interval(secs => $3::float8 / 1000)
                            THEN EXCLUDED.window_start ELSE r.window_start END,
        count = CASE WHEN r.window_start <= EXCLUDED.window_start - make_interval(secs => $3::float8 / 1000) THEN 1
                     ELSE LEAST(r.count + 1, $4::int + 1) END
      RETURNING count
    )
    SELECT install.*, (SELECT count FROM counted) AS count FROM install`;
}

function purgeSql(): string {
  return `DELETE FROM extension_scheduler_rate_limit
    WHERE window_start < COALESCE($1::timestamptz, clock_timestamp()) - make_interval(secs => $2::float8 / 1000)`;
}

export interface Admitted {
  install: InstallContext;
  /** false when the mutation is over the limit (it was not counted). Always true for a read. */
  allowed: boolean;
}

export interface Admission {
  /** The active install with this id (null when unknown, inactive or not a UUID: never counted),
   * with one mutation counted against its rate limit when `mutation` is set. */
  admit(installId: string, mutation: boolean): Promise<Admitted | null>;
}

export interface AdmissionOptions {
  pool: pg.Pool;
  limit?: number;
  windowMs?: number;
  /** Tests move time; by default the database clock is used. */
  now?: () => Date;
}

export function createAdmission(opts: AdmissionOptions): Admission {
  const limit = opts.limit ?? MUTATIONS_PER_WINDOW;
  const windowMs = opts.windowMs ?? RATE_WINDOW_MS;
  let lastPurge = Date.now();
  return {
    async admit(installId, mutation) {
      if (!isGuid(installId)) return null;
      const at = opts.now ? opts.now() : null;
      const res = await opts.pool.query<InstallRow & { count: number | null }>(
        admitSql(),
        [installId, at, windowMs, limit, mutation],
      );
      const row = res.rows[0];
      if (!row) return null;
      if (mutation && Date.now() - lastPurge >= PURGE_EVERY_MS) {
        lastPurge = Date.now();
        // Opportunistic; a failed purge only leaves rows for the next one.
        purgeStaleRateLimits(opts.pool, at ?? undefined).catch(() => {});
      }
      return {
        install: installContextOf(row),
        allowed: !mutation || (row.count !== null && row.count <= limit),
      };
    },
  };
}

/** Deletes windows that ended long ago; returns how many. */
export async function purgeStaleRateLimits(q: Queryable, now?: Date): Promise<number> {
  const res = await q.query(purgeSql(), [now ?? null, STALE_AFTER_MS]);
  return res.rowCount ?? 0;
}
