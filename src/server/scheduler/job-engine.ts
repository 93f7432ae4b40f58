import type { Queryable } from '../db/database.js';
import { systemClock, type Clock } from '../execution/clock.js';
import { nextOccurrence } from '../execution/occurrences.js';

/** Production's job name for a scheduled extension call
 * (docs/production-contract.md#job-engine). */
export const SCHEDULED_INVOCATION_JOB = 'extension-scheduled-invocation';

export interface RecurringJobRequest {
  tenantId: string;
  installId: string;
  scheduleId: string;
  cron: string;
  timezone: string;
  /** `extsched:{installId}:{scheduleId}` (docs/production-contract.md#scheduler-operations). */
  singletonKey: string;
  metadata: Record<string, unknown>;
}

export interface ScheduledJobHandles {
  /** Row id in `jobs`, stored as `tenant_extension_schedule.job_id`. */
  jobId: string;
  /** The engine's own handle, stored as `runner_schedule_id`. */
  externalId: string;
}

/**
 * The durable job engine as the scheduler service sees it (production's `IJobRunner`, narrowed).
 * Its state lives in the same Postgres: every call takes the service's transaction client and
 * writes through it (a create, inside its one statement), so a failure anywhere in a
 * create/update/delete rolls the engine back with the rows (docs/differences.md#no-orphans).
 */
export interface JobEngine {
  scheduleRecurring(q: Queryable, job: RecurringJobRequest): Promise<ScheduledJobHandles>;
  /** false when the engine does not know the job (production: tracker row missing). */
  cancel(q: Queryable, jobId: string, tenantId: string): Promise<boolean>;
  /**
   * The job as the argument of `alga_schedule_recurring_job(jsonb)` (migration 004), so a create
   * makes it inside its own single statement (fewer round trips, same atomicity).
   */
  recurringJobArgument(job: RecurringJobRequest): string;
}

/**
 * The recurring job of one schedule, as production schedules it
 * (docs/production-contract.md#scheduler-operations): singletonKey `extsched:{installId}:{scheduleId}`,
 * metadata `{kind, scheduleId, timezone}` plus the trigger when the host API made it. One builder for the service and the install lifecycle operations.
 */
export function recurringJobFor(s: {
  tenantId: string;
  installId: string;
  scheduleId: string;
  cron: string;
  timezone: string;
  trigger?: 'host_api';
}): RecurringJobRequest {
  return {
    tenantId: s.tenantId,
    installId: s.installId,
    scheduleId: s.scheduleId,
    cron: s.cron,
    timezone: s.timezone,
    singletonKey: `extsched:${s.installId}:${s.scheduleId}`,
    metadata: {
      kind: 'extension_schedule',
      scheduleId: s.scheduleId,
      timezone: s.timezone,
      ...(s.trigger ? { trigger: s.trigger } : {}),
      jobName: SCHEDULED_INVOCATION_JOB,
    },
  };
}

export const POSTGRES_RUNNER_TYPE = 'postgres';

/** Marks the tracker cancelled and removes the dispatch row, in one statement. */
function cancelSql(): string {
  return `WITH cancelled AS (
      UPDATE jobs SET status = 'cancelled', updated_at = now()
       WHERE job_id = $1::uuid AND tenant = $2::varchar
      RETURNING job_id
    ), undispatched AS (
      DELETE FROM extension_schedule_dispatch WHERE job_id = $1::uuid AND tenant_id = $2::varchar
    )
    SELECT count(*)::int AS n FROM cancelled`;
}

export interface PostgresJobEngineOptions {
  /** Where "next occurrence" is computed from (tests pin it); default the wall clock. */
  clock?: Clock;
}

/**
 * The durable recurring side of the job engine, in Postgres: a tracker row in production's `jobs`
 * shape (metadata carries the singletonKey, `recurring: true`, the cron and the job data) plus the
 * schedule's dispatch row (its next occurrence in its zone). The dispatcher
 * (src/server/execution/occurrence-dispatcher.ts) turns due occurrences into invocations on ONE pg-boss queue;
 * nothing here creates a queue, table or partition per schedule.
 */
export function createPostgresJobEngine(opts: PostgresJobEngineOptions = {}): JobEngine {
  const clock = opts.clock ?? systemClock;
  /** What `alga_schedule_recurring_job` (migration 004) writes: the tracker row in production's shape. */
  const argument = (job: RecurringJobRequest) =>
    JSON.stringify({
      tenantId: job.tenantId,
      installId: job.installId,
      scheduleId: job.scheduleId,
      type: SCHEDULED_INVOCATION_JOB,
      runnerType: POSTGRES_RUNNER_TYPE,
      externalId: job.singletonKey,
      cron: job.cron,
      timezone: job.timezone,
      nextRunAt: nextOccurrence(job.cron, job.timezone, clock.now())?.toISOString() ?? null,
      metadata: {
        ...job.metadata,
        singletonKey: job.singletonKey,
        recurring: true,
        interval: job.cron,
        timezone: job.timezone,
        data: { tenantId: job.tenantId, installId: job.installId, scheduleId: job.scheduleId },
      },
    });
  return {
    recurringJobArgument: argument,
    async scheduleRecurring(q, job) {
      const res = await q.query<{ job_id: string; external_id: string }>(
        'SELECT job_id, external_id FROM alga_schedule_recurring_job($1::jsonb)',
        [argument(job)],
      );
      return { jobId: res.rows[0].job_id, externalId: res.rows[0].external_id };
    },
    async cancel(q, jobId, tenantId) {
      const res = await q.query<{ n: number }>(cancelSql(), [jobId, tenantId]);
      return res.rows[0].n > 0;
    },
  };
}
