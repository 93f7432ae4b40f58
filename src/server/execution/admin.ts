/**
 * Admin operations on schedules (server side; never exposed to extensions): run-now (docs/differences.md#run-now-runs),
 * a schedule's run history, and its next occurrences in its zone.
 */
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import { SCHEDULED_INVOCATION_JOB } from '../scheduler/job-engine.js';
import type { Clock } from './clock.js';
import { nextOccurrences } from './occurrences.js';
import { cronInWords } from '../scheduler/cron-words.js';
import type { InvocationQueue } from './queue.js';
import * as store from './store.js';
import { isGuid } from '../../shared/uuid.js';

/** Production's run-now limit and message (docs/production-contract.md#run-now). */
export const RUN_NOW_LIMIT_PER_MINUTE = 5;
export const RUN_NOW_RATE_LIMIT_MESSAGE = 'Run-now rate limit exceeded (try again later)';
export const RUN_NOW_KIND = 'extension_schedule_run_now';
export const MAX_LISTED_RUNS = 500;
export const MAX_NEXT_OCCURRENCES = 100;

export type AdminErrorCode = 'invalid_schedule_id' | 'invalid_argument' | 'schedule_not_found' | 'install_inactive' | 'rate_limited';

/** A caller-facing failure with its HTTP status and a stable code. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface RunInfo {
  id: string;
  scheduleId: string;
  occurrenceAt: string;
  trigger: string;
  attempt: number;
  maxAttempts: number;
  jobId: string | null;
  requestId: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  status: string;
  httpStatus: number | null;
  error: string | null;
  responseExcerpt: string | null;
}

export interface RunNowResult {
  scheduleId: string;
  /** The run-now `jobs` row (production's tracker of a run-now). */
  jobId: string;
  /** The instant recorded as the run's occurrence (`x-alga-scheduled-time`). */
  requestedAt: string;
}

/** One schedule as `schedules list` and the dashboard show it. */
export interface ScheduleInfo {
  id: string;
  tenantId: string;
  installId: string;
  extension: string;
  name: string | null;
  method: string | null;
  path: string | null;
  cron: string;
  /** The cron in words (cronstrue), or null for a cron our validation refuses. */
  cronText: string | null;
  timezone: string;
  /** The next occurrences (ISO instants) in the schedule's timezone; empty when disabled. */
  next: string[];
  enabled: boolean;
  lastRunAt: string | null;
  lastRunStatus: string | null;
  lastError: string | null;
}

export interface ScheduleAdmin {
  /**
   * Enqueues one run now, even for a disabled schedule; the install must be active. `at` is the
   * scheduled time the run is recorded with and the endpoint sees (`x-alga-scheduled-time`); any
   * instant. Each run-now has an idempotency key of its own, so it always runs.
   */
  runNow(scheduleId: string, o?: { tenantId?: string; userId?: string; at?: Date }): Promise<RunNowResult>;
  /** Every schedule, of one extension (name or registry id) and/or one tenant. */
  listSchedules(o?: { extension?: string; tenantId?: string; next?: number }): Promise<ScheduleInfo[]>;
  listRuns(scheduleId: string, o?: { tenantId?: string; limit?: number }): Promise<RunInfo[]>;
  nextOccurrences(scheduleId: string, o?: { tenantId?: string; count?: number }): Promise<{ scheduleId: string; cron: string; timezone: string; enabled: boolean; occurrences: string[] }>;
}

interface AdminScheduleRow {
  id: string;
  tenant_id: string;
  install_id: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  install_active: boolean | null;
}

async function findSchedule(q: pg.Pool | pg.PoolClient, scheduleId: string, tenantId?: string): Promise<AdminScheduleRow> {
  const id = String(scheduleId ?? '').trim();
  if (!isGuid(id)) throw new AdminError(400, 'invalid_schedule_id', 'Invalid scheduleId');
  const res = await q.query<AdminScheduleRow>(
    `SELECT s.id, s.tenant_id, s.install_id, s.cron, s.timezone, s.enabled, (i.is_enabled AND i.status = 'enabled') AS install_active
       FROM tenant_extension_schedule s LEFT JOIN tenant_extension_install i ON i.id = s.install_id AND i.tenant_id = s.tenant_id
      WHERE s.id = $1 AND ($2::text IS NULL OR s.tenant_id = $2)`,
    [id, tenantId ?? null],
  );
  const row = res.rows[0];
  if (!row) throw new AdminError(404, 'schedule_not_found', 'Schedule not found');
  return row;
}

function toRunInfo(r: store.RunRow): RunInfo {
  return {
    id: r.id,
    scheduleId: r.schedule_id,
    occurrenceAt: r.occurrence_at.toISOString(),
    trigger: r.trigger,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    jobId: r.job_id,
    requestId: r.request_id,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    durationMs: r.duration_ms,
    status: r.status,
    httpStatus: r.http_status,
    error: r.error,
    responseExcerpt: r.response_excerpt,
  };
}

function utcMinuteStamp(d: Date): string {
  return d.toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

export function createScheduleAdmin(deps: { pool: pg.Pool; queue: InvocationQueue; clock: Clock; onEnqueued?: () => void }): ScheduleAdmin {
  const { pool, clock } = deps;
  return {
    async runNow(scheduleId, o = {}) {
      const result = await withTransaction(pool, async (tx) => {
        const s = await findSchedule(tx, scheduleId, o.tenantId);
        if (!s.install_active) throw new AdminError(409, 'install_inactive', 'Extension install not found or not enabled');
        // Serializes this tenant's run-now requests so that count + insert is atomic across
        // processes (a hash only makes two tenants wait for each other, never lets one overshoot).
        await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('extsched-run-now:' || $1, 0))`, [s.tenant_id]);
        const now = clock.now();
        const scheduledAt = o.at ?? now;
        const recent = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM jobs
            WHERE tenant = $1 AND type = $2 AND created_at >= $3::timestamptz - interval '60 seconds'
              AND metadata->>'kind' = $4`,
          [s.tenant_id, SCHEDULED_INVOCATION_JOB, now, RUN_NOW_KIND],
        );
        if (recent.rows[0].n >= RUN_NOW_LIMIT_PER_MINUTE) throw new AdminError(429, 'rate_limited', RUN_NOW_RATE_LIMIT_MESSAGE);
        const singletonKey = `extsched-run:${s.install_id}:${s.id}:${utcMinuteStamp(now)}`;
        const job = await tx.query<{ job_id: string }>(
          `INSERT INTO jobs (tenant, type, status, metadata, user_id, runner_type, external_id, created_at)
           VALUES ($1, $2, 'pending', $3::jsonb, $4, 'pg-boss', $5, $6) RETURNING job_id`,
          [s.tenant_id, SCHEDULED_INVOCATION_JOB, JSON.stringify({ kind: RUN_NOW_KIND, scheduleId: s.id, singletonKey }), o.userId ?? null, singletonKey, now],
        );
        const jobId = job.rows[0].job_id;
        await deps.queue.enqueue(tx, [
          {
            key: `runnow:${s.id}:${jobId}`,
            data: { tenantId: s.tenant_id, installId: s.install_id, scheduleId: s.id, trigger: 'run-now', occurrence: scheduledAt.toISOString(), runNowJobId: jobId },
          },
        ]);
        return { scheduleId: s.id, jobId, requestedAt: scheduledAt.toISOString() };
      });
      deps.onEnqueued?.();
      return result;
    },

    async listSchedules(o = {}) {
      const count = o.next ?? 3;
      const r = await pool.query<{
        id: string; tenant_id: string; install_id: string; extension: string; name: string | null; method: string | null; path: string | null;
        cron: string; timezone: string; enabled: boolean; last_run_at: Date | null; last_run_status: string | null; last_error: string | null;
      }>(
        `SELECT s.id, s.tenant_id, s.install_id, r.name AS extension, s.name, e.method, e.path, s.cron, s.timezone, s.enabled,
                s.last_run_at, s.last_run_status, s.last_error
           FROM tenant_extension_schedule s
           JOIN tenant_extension_install i ON i.id = s.install_id
           JOIN extension_registry r ON r.id = i.registry_id
           LEFT JOIN extension_api_endpoint e ON e.id = s.endpoint_id
          WHERE ($1::text IS NULL OR s.tenant_id = $1)
            AND ($2::text IS NULL OR lower(r.name) = lower($2) OR r.id::text = $2 OR lower(r.publisher || '.' || r.name) = lower($2))
          ORDER BY s.tenant_id, r.name, s.name NULLS LAST, s.created_at`,
        [o.tenantId ?? null, o.extension ?? null],
      );
      const now = clock.now();
      return r.rows.map((row) => {
        let next: string[] = [];
        try {
          if (row.enabled) next = nextOccurrences(row.cron, row.timezone, now, count).map((d) => d.toISOString());
        } catch {
          // a stored cron our rules refuse: no occurrences to show
        }
        return {
          id: row.id,
          tenantId: row.tenant_id,
          installId: row.install_id,
          extension: row.extension,
          name: row.name,
          method: row.method,
          path: row.path,
          cron: row.cron,
          cronText: cronInWords(row.cron),
          timezone: row.timezone,
          next,
          enabled: row.enabled,
          lastRunAt: row.last_run_at ? row.last_run_at.toISOString() : null,
          lastRunStatus: row.last_run_status,
          lastError: row.last_error,
        };
      });
    },

    async listRuns(scheduleId, o = {}) {
      const limit = o.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTED_RUNS) throw new AdminError(400, 'invalid_argument', `limit must be an integer from 1 to ${MAX_LISTED_RUNS}`);
      const s = await findSchedule(pool, scheduleId, o.tenantId);
      return (await store.listRuns(pool, s.id, limit)).map(toRunInfo);
    },

    async nextOccurrences(scheduleId, o = {}) {
      const count = o.count ?? 5;
      if (!Number.isInteger(count) || count < 1 || count > MAX_NEXT_OCCURRENCES) throw new AdminError(400, 'invalid_argument', `count must be an integer from 1 to ${MAX_NEXT_OCCURRENCES}`);
      const s = await findSchedule(pool, scheduleId, o.tenantId);
      return {
        scheduleId: s.id,
        cron: s.cron,
        timezone: s.timezone,
        enabled: s.enabled,
        occurrences: nextOccurrences(s.cron, s.timezone, clock.now(), count).map((d) => d.toISOString()),
      };
    },
  };
}
