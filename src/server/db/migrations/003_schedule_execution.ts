/**
 * Schedule execution (ours; production keeps only `last_run_*` and one pg-boss queue per schedule).
 * - `extension_schedule_dispatch`: one row per enabled schedule with a live job, holding the next
 *   occurrence. The dispatcher reads only rows with `next_run_at <= now` through the index, so a tick
 *   costs in proportion to what is due, not to how many schedules exist. Written by the job engine in
 *   the scheduler service's transaction (created/cancelled with the schedule row).
 * - `extension_schedule_run_lock`: one row per schedule that has ever run; a run holds it
 *   `FOR UPDATE` for its duration, which is the exact no-overlap lock (docs/differences.md#exact-no-overlap).
 * - `extension_schedule_run`: the run history, one row per attempt, bounded (see docs/scheduling.md).
 * Invocations themselves are pg-boss jobs in ONE queue (schema `pgboss`, created by pg-boss).
 */
export const up = /* sql */ `
CREATE TABLE extension_schedule_dispatch (
  schedule_id uuid PRIMARY KEY,
  tenant_id varchar(255) NOT NULL,
  install_id uuid NOT NULL,
  job_id uuid NULL,
  cron text NOT NULL,
  timezone varchar(64) NOT NULL,
  next_run_at timestamptz NULL,
  last_fired_at timestamptz NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX extension_schedule_dispatch_due_idx ON extension_schedule_dispatch (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX extension_schedule_dispatch_job_idx ON extension_schedule_dispatch (job_id);

CREATE TABLE extension_schedule_run_lock (
  schedule_id uuid PRIMARY KEY
);

CREATE TABLE extension_schedule_run (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  schedule_id uuid NOT NULL,
  tenant_id varchar(255) NOT NULL,
  install_id uuid NOT NULL,
  occurrence_at timestamptz NOT NULL,
  trigger varchar(16) NOT NULL CHECK (trigger IN ('schedule', 'run-now')),
  attempt integer NOT NULL,
  max_attempts integer NOT NULL,
  job_id uuid NULL,
  request_id uuid NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NULL,
  duration_ms integer NULL,
  status varchar(16) NOT NULL CHECK (status IN ('running', 'success', 'error', 'skipped')),
  http_status integer NULL,
  error text NULL,
  response_excerpt text NULL
);
CREATE INDEX extension_schedule_run_schedule_idx ON extension_schedule_run (schedule_id, started_at DESC);
CREATE INDEX extension_schedule_run_started_idx ON extension_schedule_run (started_at);
CREATE INDEX extension_schedule_run_running_idx ON extension_schedule_run (started_at) WHERE status = 'running';
`;
