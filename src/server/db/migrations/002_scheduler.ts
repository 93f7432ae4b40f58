/**
 * Scheduler host API support tables.
 * - `jobs`: production's shared tracker table (docs/production-contract.md#tables), one row per durable
 *   recurring schedule; our Postgres job engine writes it inside the service's transaction.
 * - `extension_scheduler_rate_limit`: production keeps its fixed window in one process's memory;
 *   we keep it here so every process shares it (docs/differences.md#shared-rate-limit).
 */
export const up = /* sql */ `
CREATE TABLE IF NOT EXISTS jobs (
  job_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  status varchar(32) NOT NULL DEFAULT 'pending',
  metadata jsonb NULL,
  user_id uuid NULL,
  runner_type varchar(32) NULL,
  external_id varchar(255) NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobs_tenant_type_created_idx ON jobs (tenant, type, created_at);
CREATE INDEX IF NOT EXISTS jobs_external_id_idx ON jobs (external_id);

CREATE TABLE extension_scheduler_rate_limit (
  install_id uuid PRIMARY KEY,
  window_start timestamptz NOT NULL,
  count integer NOT NULL
);
CREATE INDEX extension_scheduler_rate_limit_window_idx ON extension_scheduler_rate_limit (window_start);
`;
