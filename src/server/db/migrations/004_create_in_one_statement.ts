/**
 * A schedule create as one database call (issue 3: at most 3 round trips per create).
 * - `alga_endpoint_schedulable`: production's v1 rule (GET or POST, no path parameter), the one copy.
 * - `alga_find_schedule_endpoint`: the endpoint lookup of docs/production-contract.md#scheduler-endpoints (also used by update).
 * - `alga_schedule_recurring_job`: the Postgres job engine's write (tracker row, dispatch row, run
 *   lock), one implementation for the engine's port and for the create below.
 * - `alga_create_extension_schedule`: install lock → endpoint → quota → job → row. VOLATILE, so each
 *   statement takes a fresh snapshot: the quota count runs after the install lock is held and sees
 *   every committed schedule (docs/differences.md#atomic-quota). Refusals raise with the SQLSTATEs in schedule-store.ts, so
 *   nothing of a refused create is written.
 */
export const up = /* sql */ `
CREATE FUNCTION alga_endpoint_schedulable(p_method text, p_path text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
  -- A path parameter is any ':' (anywhere), '{' or '}'.
  SELECT upper(p_method) IN ('GET', 'POST') AND p_path !~ '[:{}]'
$fn$;

CREATE FUNCTION alga_find_schedule_endpoint(p_version_id uuid, p_method text, p_path text)
RETURNS TABLE (id uuid, method varchar, path text, schedulable boolean)
LANGUAGE sql STABLE AS $fn$
  -- Ordered by method so a bare path with both GET and POST always means GET; the path may be stored
  -- without its leading slash (older rows).
  SELECT e.id, e.method, e.path, alga_endpoint_schedulable(e.method, e.path)
    FROM extension_api_endpoint e
   WHERE e.version_id = p_version_id
     AND (e.path = p_path OR e.path = substr(p_path, 2))
     AND (e.method = p_method OR (p_method IS NULL AND e.method IN ('GET', 'POST')))
   ORDER BY e.method ASC, e.path ASC
   LIMIT 1
$fn$;

CREATE FUNCTION alga_schedule_recurring_job(p_job jsonb)
RETURNS TABLE (job_id uuid, external_id varchar)
LANGUAGE sql VOLATILE AS $fn$
  WITH made AS (
    INSERT INTO jobs (tenant, type, status, metadata, runner_type, external_id)
    VALUES (p_job->>'tenantId', p_job->>'type', 'scheduled', p_job->'metadata', p_job->>'runnerType', p_job->>'externalId')
    RETURNING jobs.job_id, jobs.external_id
  ), dispatch AS (
    INSERT INTO extension_schedule_dispatch (schedule_id, tenant_id, install_id, job_id, cron, timezone, next_run_at)
    SELECT (p_job->>'scheduleId')::uuid, p_job->>'tenantId', (p_job->>'installId')::uuid, made.job_id,
           p_job->>'cron', p_job->>'timezone', (p_job->>'nextRunAt')::timestamptz
      FROM made
    ON CONFLICT (schedule_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, install_id = EXCLUDED.install_id,
      job_id = EXCLUDED.job_id, cron = EXCLUDED.cron, timezone = EXCLUDED.timezone,
      next_run_at = EXCLUDED.next_run_at, updated_at = now()
  ), run_lock AS (
    INSERT INTO extension_schedule_run_lock (schedule_id) VALUES ((p_job->>'scheduleId')::uuid) ON CONFLICT DO NOTHING
  )
  SELECT made.job_id, made.external_id FROM made
$fn$;

CREATE FUNCTION alga_create_extension_schedule(
  p_id uuid, p_install_id uuid, p_tenant_id varchar, p_version_id uuid,
  p_method text, p_path text, p_name varchar, p_cron text, p_timezone varchar, p_enabled boolean,
  p_payload_json jsonb, p_max integer, p_job jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_endpoint record;
  v_job_id uuid;
  v_external_id varchar;
BEGIN
  -- Held to commit: this install's creates queue here, so the count below cannot be overshot.
  UPDATE tenant_extension_install SET updated_at = now() WHERE id = p_install_id AND tenant_id = p_tenant_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'install not found' USING ERRCODE = 'AL001';
  END IF;
  SELECT * INTO v_endpoint FROM alga_find_schedule_endpoint(p_version_id, p_method, p_path);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'endpoint not found' USING ERRCODE = 'AL002';
  END IF;
  IF NOT v_endpoint.schedulable THEN
    RAISE EXCEPTION 'endpoint not schedulable' USING ERRCODE = 'AL003';
  END IF;
  IF (SELECT count(*) FROM tenant_extension_schedule WHERE install_id = p_install_id AND tenant_id = p_tenant_id) >= p_max THEN
    RAISE EXCEPTION 'too many schedules' USING ERRCODE = 'AL004';
  END IF;
  IF p_job IS NOT NULL THEN
    SELECT j.job_id, j.external_id INTO v_job_id, v_external_id FROM alga_schedule_recurring_job(p_job) j;
  END IF;
  INSERT INTO tenant_extension_schedule
    (id, install_id, tenant_id, endpoint_id, name, cron, timezone, enabled, payload_json, job_id, runner_schedule_id)
  VALUES (p_id, p_install_id, p_tenant_id, v_endpoint.id, p_name, p_cron, p_timezone, p_enabled, p_payload_json,
          v_job_id, v_external_id);
END
$fn$;
`;
