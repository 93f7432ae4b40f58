import type pg from 'pg';
import type { Queryable } from '../db/database.js';

/** Production's numbers: 10 create/update/delete per install per fixed 60 s window (SPEC §4.3). */
export const MUTATIONS_PER_WINDOW = 10;
export const RATE_WINDOW_MS = 60_000;
/** Production purges entries older than 120 s every 5 minutes. */
export const STALE_AFTER_MS = 120_000;
export const PURGE_EVERY_MS = 5 * 60_000;

/**
 * One atomic statement per call, so concurrent callers in any process see one counter (defect 6).
 * Production's fixed window: it starts at the first counted call; calls are counted until the count
 * reaches the limit; later calls in the window are rejected and not counted. We store limit + 1 to
 * mark "saturated", which is how the caller learns it was rejected without a second statement.
 * $2 is the caller's clock or null for the database's (one clock for every process).
 */
function consumeSql(): string {
  return `INSERT INTO extension_scheduler_rate_limit AS r (install_id, window_start, count)
    VALUES ($1, COALESCE($2::timestamptz, clock_timestamp()), 1)
    ON CONFLICT (install_id) DO UPDATE SET
      window_start = CASE WHEN r.window_start <= EXCLUDED.window_start - make_interval(secs => $3::float8 / 1000)
                          THEN EXCLUDED.window_start ELSE r.window_start END,
      count = CASE WHEN r.window_start <= EXCLUDED.window_start - make_interval(secs => $3::float8 / 1000) THEN 1
                   ELSE LEAST(r.count + 1, $4::int + 1) END
    RETURNING count`;
}

function purgeSql(): string {
  return `DELETE FROM extension_scheduler_rate_limit
    WHERE window_start < COALESCE($1::timestamptz, clock_timestamp()) - make_interval(secs => $2::float8 / 1000)`;
}

export interface RateLimiter {
  /** Counts one mutation for the install; false when it is over the limit (and not counted). */
  consume(installId: string): Promise<boolean>;
}

export interface RateLimiterOptions {
  pool: pg.Pool;
  limit?: number;
  windowMs?: number;
  /** Tests move time; by default the database clock is used. */
  now?: () => Date;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const limit = opts.limit ?? MUTATIONS_PER_WINDOW;
  const windowMs = opts.windowMs ?? RATE_WINDOW_MS;
  let lastPurge = Date.now();
  return {
    async consume(installId) {
      const at = opts.now ? opts.now() : null;
      const res = await opts.pool.query<{ count: number }>(consumeSql(), [installId, at, windowMs, limit]);
      if (Date.now() - lastPurge >= PURGE_EVERY_MS) {
        lastPurge = Date.now();
        // Opportunistic; a failed purge only leaves rows for the next one.
        purgeStaleRateLimits(opts.pool, at ?? undefined).catch(() => {});
      }
      return res.rows[0].count <= limit;
    },
  };
}

/** Deletes windows that ended long ago; returns how many. */
export async function purgeStaleRateLimits(q: Queryable, now?: Date): Promise<number> {
  const res = await q.query(purgeSql(), [now ?? null, STALE_AFTER_MS]);
  return res.rowCount ?? 0;
}
