/**
 * The dispatcher: turns due occurrences into invocation jobs. Each tick claims the due dispatch
 * rows (`next_run_at <= now`, index order, `FOR UPDATE SKIP LOCKED`), enqueues one job per
 * occurrence in the same transaction, and writes each schedule's next occurrence — so a tick costs
 * in proportion to what is due, and however many processes tick, an occurrence is claimed by one
 * transaction and enqueued once (the job id derived from `${scheduleId}:${occurrenceISO}` is a
 * second guard).
 */
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import type { Logger } from '../../shared/logger.js';
import type { Clock } from './clock.js';
import { dueOccurrence, nextOccurrence } from './occurrences.js';
import type { InvocationJobData, InvocationQueue } from './queue.js';
import * as store from './store.js';

export interface TickResult {
  claimed: number;
  enqueued: number;
  /** Due rows of a disabled schedule or inactive install: advanced without a run. */
  skipped: number;
  /** Rows whose schedule no longer exists: removed. */
  removed: number;
  /** Missed occurrences not run (see the missed-occurrence policy). */
  dropped: number;
}

export interface DispatcherOptions {
  pool: pg.Pool;
  queue: InvocationQueue;
  clock: Clock;
  logger: Logger;
  /** Rows per claim transaction; default 500. */
  batchSize?: number;
  /** Upper bound of rows per tick (the rest waits for the next tick); default 20 000. */
  maxPerTick?: number;
  onEnqueued?: (n: number) => void;
}

export interface Dispatcher {
  tick(): Promise<TickResult>;
  /** Gives enabled schedules written before migration 003 their dispatch row (once, at start). */
  adopt(): Promise<number>;
}

export function occurrenceKey(scheduleId: string, occurrence: Date): string {
  return `${scheduleId}:${occurrence.toISOString()}`;
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const batchSize = o.batchSize ?? 500;
  const maxPerTick = o.maxPerTick ?? 20_000;

  async function claimBatch(now: Date, total: TickResult): Promise<number> {
    return withTransaction(o.pool, async (tx) => {
      const rows = await store.claimDue(tx, now, batchSize);
      if (rows.length === 0) return 0;
      const ids: string[] = [];
      const next: (Date | null)[] = [];
      const fired: (Date | null)[] = [];
      const gone: string[] = [];
      const jobs: { key: string; data: InvocationJobData }[] = [];
      for (const r of rows) {
        if (r.schedule_enabled === null) {
          gone.push(r.schedule_id);
          total.removed++;
          continue;
        }
        const due = dueOccurrence(r.cron, r.timezone, r.next_run_at, now);
        ids.push(r.schedule_id);
        next.push(due.next);
        if (!r.schedule_enabled || !r.install_active) {
          // Disabled schedules and inactive installs do not fire; the row keeps its place in time.
          fired.push(null);
          total.skipped++;
          continue;
        }
        if (due.dropped > 0) {
          total.dropped += due.dropped;
          o.logger.warn('missed schedule occurrences dropped: running only the latest', {
            scheduleId: r.schedule_id,
            tenantId: r.tenant_id,
            dropped: due.droppedAtLeast ? `${due.dropped}+` : due.dropped,
            firstMissed: r.next_run_at.toISOString(),
            running: due.occurrence.toISOString(),
          });
        }
        fired.push(due.occurrence);
        jobs.push({
          key: occurrenceKey(r.schedule_id, due.occurrence),
          data: {
            tenantId: r.tenant_id,
            installId: r.install_id,
            scheduleId: r.schedule_id,
            trigger: 'schedule',
            occurrence: due.occurrence.toISOString(),
          },
        });
      }
      await o.queue.enqueue(tx, jobs);
      await store.advanceDispatch(tx, ids, next, fired);
      await store.deleteDispatch(tx, gone);
      total.claimed += rows.length;
      total.enqueued += jobs.length;
      return rows.length;
    });
  }

  return {
    async tick() {
      const now = o.clock.now();
      const total: TickResult = { claimed: 0, enqueued: 0, skipped: 0, removed: 0, dropped: 0 };
      while (total.claimed < maxPerTick) {
        const n = await claimBatch(now, total);
        if (n < batchSize) break;
      }
      if (total.enqueued > 0) o.onEnqueued?.(total.enqueued);
      return total;
    },
    async adopt() {
      let adopted = 0;
      for (;;) {
        const rows = await store.schedulesWithoutDispatch(o.pool, 500);
        if (rows.length === 0) return adopted;
        const now = o.clock.now();
        for (const r of rows) {
          await store.insertDispatch(o.pool, {
            scheduleId: r.id,
            tenantId: r.tenant_id,
            installId: r.install_id,
            jobId: r.job_id,
            cron: r.cron,
            timezone: r.timezone,
            nextRunAt: nextOccurrence(r.cron, r.timezone, now),
          });
        }
        adopted += rows.length;
      }
    },
  };
}
