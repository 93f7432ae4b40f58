/** SQL of schedule execution: one function per statement, `$n` placeholders only. */
import { secretEnvelopeColumn } from '../secrets/install-secrets.js';
import type { Queryable } from '../db/database.js';

export interface DueRow {
  schedule_id: string;
  tenant_id: string;
  install_id: string;
  cron: string;
  timezone: string;
  next_run_at: Date;
  /** null when the schedule row is gone. */
  schedule_enabled: boolean | null;
  /** null when the install row is gone. */
  install_active: boolean | null;
}

/**
 * The due rows, oldest first, locked so that no other dispatcher claims them (SKIP LOCKED: a busy
 * row is someone else's this tick). The index on next_run_at makes this O(due).
 */
export async function claimDue(q: Queryable, now: Date, limit: number): Promise<DueRow[]> {
  const res = await q.query<DueRow>(
    `SELECT d.schedule_id, d.tenant_id, d.install_id, coalesce(s.cron, d.cron) AS cron,
            coalesce(s.timezone, d.timezone) AS timezone, d.next_run_at,
            s.enabled AS schedule_enabled, (i.is_enabled AND i.status = 'enabled') AS install_active
       FROM extension_schedule_dispatch d
       LEFT JOIN tenant_extension_schedule s ON s.id = d.schedule_id AND s.tenant_id = d.tenant_id
       LEFT JOIN tenant_extension_install i ON i.id = d.install_id
      WHERE d.next_run_at <= $1
      ORDER BY d.next_run_at
      LIMIT $2
      FOR UPDATE OF d SKIP LOCKED`,
    [now, limit],
  );
  return res.rows;
}

export async function advanceDispatch(q: Queryable, ids: string[], next: (Date | null)[], fired: (Date | null)[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE extension_schedule_dispatch d
        SET next_run_at = v.next_run_at, last_fired_at = coalesce(v.fired_at, d.last_fired_at), updated_at = now()
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS v(schedule_id, next_run_at, fired_at)
      WHERE d.schedule_id = v.schedule_id`,
    [ids, next, fired],
  );
}

export async function deleteDispatch(q: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(`DELETE FROM extension_schedule_dispatch WHERE schedule_id = ANY($1::uuid[])`, [ids]);
}

/** Enabled schedules with a job but no dispatch row (rows written before migration 003): adopted at start. */
export async function schedulesWithoutDispatch(q: Queryable, limit: number) {
  const res = await q.query<{ id: string; tenant_id: string; install_id: string; job_id: string; cron: string; timezone: string }>(
    `SELECT s.id, s.tenant_id, s.install_id, s.job_id, s.cron, s.timezone
       FROM tenant_extension_schedule s
      WHERE s.enabled AND s.job_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM extension_schedule_dispatch d WHERE d.schedule_id = s.id)
      LIMIT $1`,
    [limit],
  );
  return res.rows;
}

export async function insertDispatch(
  q: Queryable,
  r: { scheduleId: string; tenantId: string; installId: string; jobId: string | null; cron: string; timezone: string; nextRunAt: Date | null },
): Promise<void> {
  await q.query(
    `INSERT INTO extension_schedule_dispatch (schedule_id, tenant_id, install_id, job_id, cron, timezone, next_run_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (schedule_id) DO NOTHING`,
    [r.scheduleId, r.tenantId, r.installId, r.jobId, r.cron, r.timezone, r.nextRunAt],
  );
}

// ── the no-overlap lock ────────────────────────────────────────────────────────────────────────

export async function ensureRunLockRow(q: Queryable, scheduleId: string): Promise<void> {
  await q.query(`INSERT INTO extension_schedule_run_lock (schedule_id) VALUES ($1) ON CONFLICT DO NOTHING`, [scheduleId]);
}

/** The advisory lock on a job id: a 64-bit hash of the id, under a prefix of ours. With a 32-bit
 * hash two unrelated job ids can collide, and a retry then took another job's running attempt for
 * an earlier one of its own (failed back instead of skipped as an overlap). */
const jobLockKey = (param: string) => `hashtextextended('alga-exec-job:' || ${param}, 0)`;

/**
 * Inside a transaction: true when this transaction now holds the schedule's run lock. In the same
 * statement it takes an advisory lock on the job id, so a retry that finds the run lock held can
 * tell an earlier attempt of its own job (stalled past its expiry) from another occurrence.
 */
export async function tryRunLock(q: Queryable, scheduleId: string, jobId: string): Promise<boolean> {
  const res = await q.query({
    name: 'alga_exec_try_lock',
    text: `SELECT pg_try_advisory_xact_lock(${jobLockKey('$2::text')}) FROM (SELECT 1 FROM extension_schedule_run_lock WHERE schedule_id = $1 FOR UPDATE SKIP LOCKED) l`,
    values: [scheduleId, jobId],
  });
  return (res.rowCount ?? 0) > 0;
}

/** Inside a transaction, without the run lock: whether an earlier attempt of this job holds it. */
export async function jobAttemptHoldsLock(q: Queryable, jobId: string): Promise<boolean> {
  const res = await q.query<{ held: boolean }>({ name: 'alga_exec_job_lock_held', text: `SELECT NOT pg_try_advisory_xact_lock(${jobLockKey('$1::text')}) AS held`, values: [jobId] });
  return res.rows[0]?.held === true;
}

/**
 * Whether an attempt of this job already succeeded. The job id is the occurrence's identity (a
 * scheduled occurrence's is derived from schedule and instant; each run-now has its own), so a retry
 * of a job whose completion never reached the queue can be told from a run still owed.
 */
export async function jobSucceeded(q: Queryable, scheduleId: string, jobId: string): Promise<boolean> {
  const res = await q.query({ name: 'alga_exec_job_succeeded', text: `SELECT 1 FROM extension_schedule_run WHERE schedule_id = $1 AND job_id = $2 AND status = 'success' LIMIT 1`, values: [scheduleId, jobId] });
  return (res.rowCount ?? 0) > 0;
}

// ── what a run reads ───────────────────────────────────────────────────────────────────────────

/** Whether the schedule's lock row exists (to tell "locked by a run" from "never ran"). */
export async function runLockRowExists(q: Queryable, scheduleId: string): Promise<boolean> {
  const res = await q.query({ name: 'alga_exec_lock_exists', text: `SELECT 1 FROM extension_schedule_run_lock WHERE schedule_id = $1`, values: [scheduleId] });
  return (res.rowCount ?? 0) > 0;
}

/** Everything an invocation reads, in one statement: the schedule, its endpoint, its install. */
export interface RunContextRow {
  id: string;
  enabled: boolean;
  payload_json: unknown;
  endpoint_id: string;
  e_id: string | null;
  e_version_id: string | null;
  e_method: string | null;
  e_path: string | null;
  i_id: string | null;
  i_tenant_id: string | null;
  i_registry_id: string | null;
  i_version_id: string | null;
  i_active: boolean | null;
  i_config: unknown;
  granted_caps: unknown;
  capabilities_override: unknown;
  version_caps: unknown;
  config_providers: unknown;
  content_hash: string | null;
  extension_name: string | null;
  secret_envelope: unknown;
}

export async function loadRunContext(q: Queryable, scheduleId: string, installId: string, tenantId: string): Promise<RunContextRow | null> {
  const res = await q.query<RunContextRow>({ name: 'alga_exec_run_context', text: `SELECT s.id, s.enabled, s.payload_json, s.endpoint_id,
            e.id AS e_id, e.version_id AS e_version_id, e.method AS e_method, e.path AS e_path,
            i.id AS i_id, i.tenant_id AS i_tenant_id, i.registry_id AS i_registry_id, i.version_id AS i_version_id,
            (i.is_enabled AND i.status = 'enabled') AS i_active, i.config AS i_config, i.granted_caps, i.capabilities_override,
            v.capabilities AS version_caps, c.providers AS config_providers, r.name AS extension_name,
            (SELECT b.content_hash FROM extension_bundle b WHERE b.version_id = i.version_id ORDER BY b.created_at DESC LIMIT 1) AS content_hash,
            ${secretEnvelopeColumn('i')}
       FROM tenant_extension_schedule s
       LEFT JOIN extension_api_endpoint e ON e.id = s.endpoint_id
       LEFT JOIN tenant_extension_install i ON i.id = s.install_id
       LEFT JOIN extension_registry r ON r.id = i.registry_id
       LEFT JOIN extension_version v ON v.id = i.version_id
       LEFT JOIN tenant_extension_install_config c ON c.install_id = i.id
      WHERE s.id = $1 AND s.install_id = $2 AND s.tenant_id = $3`, values: [scheduleId, installId, tenantId] },
  );
  return res.rows[0] ?? null;
}

/** Production's handler step 5: the endpoint is gone, so the schedule is disabled. */
export async function disableSchedule(q: Queryable, scheduleId: string, tenantId: string): Promise<void> {
  await q.query(`UPDATE tenant_extension_schedule SET enabled = false, updated_at = now() WHERE id = $1 AND tenant_id = $2`, [scheduleId, tenantId]);
  await q.query(`DELETE FROM extension_schedule_dispatch WHERE schedule_id = $1`, [scheduleId]);
}

export async function writeLastRun(q: Queryable, scheduleId: string, tenantId: string, at: Date, status: 'success' | 'error', error: string | null): Promise<void> {
  await q.query({ name: 'alga_exec_last_run', text: `UPDATE tenant_extension_schedule SET last_run_at = $3, last_run_status = $4, last_error = $5, updated_at = now()
      WHERE id = $1 AND tenant_id = $2`, values: [scheduleId, tenantId, at, status, error] },
  );
}

// ── run history ────────────────────────────────────────────────────────────────────────────────

export interface NewRun {
  scheduleId: string;
  tenantId: string;
  installId: string;
  occurrenceAt: Date;
  trigger: 'schedule' | 'run-now';
  attempt: number;
  maxAttempts: number;
  jobId: string | null;
  requestId: string | null;
  startedAt: Date;
  status: 'running' | 'skipped';
  error?: string | null;
}

export async function insertRun(q: Queryable, r: NewRun): Promise<string> {
  const res = await q.query<{ id: string }>({ name: 'alga_exec_insert_run', text: `INSERT INTO extension_schedule_run (schedule_id, tenant_id, install_id, occurrence_at, trigger, attempt, max_attempts,
        job_id, request_id, started_at, status, error, finished_at, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz, $11::varchar, $12,
        CASE WHEN $11::varchar = 'skipped' THEN $10::timestamptz END, CASE WHEN $11::varchar = 'skipped' THEN 0 END)
     RETURNING id`, values: [r.scheduleId, r.tenantId, r.installId, r.occurrenceAt, r.trigger, r.attempt, r.maxAttempts, r.jobId, r.requestId, r.startedAt, r.status, r.error ?? null] },
  );
  return res.rows[0].id;
}

export async function finishRun(
  q: Queryable,
  runId: string,
  r: { finishedAt: Date; durationMs: number; status: 'success' | 'error'; httpStatus: number | null; error: string | null; responseExcerpt: string | null },
): Promise<void> {
  await q.query({ name: 'alga_exec_finish_run', text: `UPDATE extension_schedule_run SET finished_at = $2, duration_ms = $3, status = $4, http_status = $5, error = $6, response_excerpt = $7
      WHERE id = $1`, values: [runId, r.finishedAt, Math.round(r.durationMs), r.status, r.httpStatus, r.error, r.responseExcerpt] },
  );
}

/** A run-now's tracker row in `jobs`, closed with its last attempt. */
export async function finishRunNowJob(q: Queryable, jobId: string, status: 'completed' | 'failed'): Promise<void> {
  await q.query(`UPDATE jobs SET status = $2, updated_at = now() WHERE job_id = $1`, [jobId, status]);
}

export const INTERRUPTED_RUN_ERROR = 'Run interrupted: the worker stopped before the run finished';

/** Called while holding the schedule's run lock: any `running` row of it is from a dead worker. */
export async function closeInterruptedRuns(q: Queryable, scheduleId: string, at: Date): Promise<number> {
  const res = await q.query({ name: 'alga_exec_close_interrupted', text: `UPDATE extension_schedule_run SET status = 'error', error = $3, finished_at = $2,
        duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($2::timestamptz - started_at)) * 1000)::int)
      WHERE schedule_id = $1 AND status = 'running'`, values: [scheduleId, at, INTERRUPTED_RUN_ERROR] },
  );
  return res.rowCount ?? 0;
}

/** Keep the newest `keep` runs of a schedule. */
export async function pruneScheduleRuns(q: Queryable, scheduleId: string, keep: number): Promise<number> {
  const res = await q.query({ name: 'alga_exec_prune_schedule', text: `DELETE FROM extension_schedule_run WHERE id IN (
       SELECT id FROM extension_schedule_run WHERE schedule_id = $1 ORDER BY started_at DESC OFFSET $2)`, values: [scheduleId, keep] },
  );
  return res.rowCount ?? 0;
}

/** Age bound, and the run rows and lock rows of schedules that no longer exist. */
export async function pruneOldRuns(q: Queryable, before: Date, batch: number): Promise<number> {
  const res = await q.query(
    `DELETE FROM extension_schedule_run WHERE id IN (
       SELECT id FROM extension_schedule_run WHERE started_at < $1 ORDER BY started_at LIMIT $2)`,
    [before, batch],
  );
  return res.rowCount ?? 0;
}

export async function pruneOrphans(q: Queryable, batch: number): Promise<number> {
  const runs = await q.query(
    `DELETE FROM extension_schedule_run WHERE id IN (
       SELECT r.id FROM extension_schedule_run r
        WHERE NOT EXISTS (SELECT 1 FROM tenant_extension_schedule s WHERE s.id = r.schedule_id) LIMIT $1)`,
    [batch],
  );
  const locks = await q.query(
    `DELETE FROM extension_schedule_run_lock WHERE schedule_id IN (
       SELECT l.schedule_id FROM extension_schedule_run_lock l
        WHERE NOT EXISTS (SELECT 1 FROM tenant_extension_schedule s WHERE s.id = l.schedule_id)
        LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    [batch],
  );
  return (runs.rowCount ?? 0) + (locks.rowCount ?? 0);
}

/** `running` rows older than any run can last (the timeout is enforced): their worker died. */
export async function closeStaleRuns(q: Queryable, startedBefore: Date, at: Date): Promise<number> {
  const res = await q.query(
    `UPDATE extension_schedule_run SET status = 'error', error = $3, finished_at = $2,
        duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($2::timestamptz - started_at)) * 1000)::int)
      WHERE status = 'running' AND started_at < $1`,
    [startedBefore, at, INTERRUPTED_RUN_ERROR],
  );
  return res.rowCount ?? 0;
}

export interface RunRow {
  id: string;
  schedule_id: string;
  occurrence_at: Date;
  trigger: string;
  attempt: number;
  max_attempts: number;
  job_id: string | null;
  request_id: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  status: string;
  http_status: number | null;
  error: string | null;
  response_excerpt: string | null;
}

export async function listRuns(q: Queryable, scheduleId: string, limit: number): Promise<RunRow[]> {
  const res = await q.query<RunRow>(
    `SELECT id, schedule_id, occurrence_at, trigger, attempt, max_attempts, job_id, request_id, started_at, finished_at,
            duration_ms, status, http_status, error, response_excerpt
       FROM extension_schedule_run WHERE schedule_id = $1 ORDER BY started_at DESC, attempt DESC LIMIT $2`,
    [scheduleId, limit],
  );
  return res.rows;
}
