/**
 * SQL of the scheduler service: one small function per statement, every schedule query scoped by
 * install and tenant (production's tenant facade adds the tenant filter). Values travel as `$n`
 * parameters, except in createScheduleStatement: the create goes as one simple-protocol message
 * with BEGIN (no parameters there), so its values are sqlLiteral()s.
 */
import { sqlLiteral, type Queryable } from '../db/database.js';

export interface InstallRow {
  id: string;
  tenant_id: string;
  version_id: string;
  registry_id: string;
}

export interface ScheduleRow {
  id: string;
  install_id: string;
  tenant_id: string;
  endpoint_id: string;
  name: string | null;
  cron: string;
  timezone: string;
  enabled: boolean;
  job_id: string | null;
  runner_schedule_id: string | null;
}

export interface ScheduleInfoRow {
  id: string;
  endpoint_path: string;
  endpoint_method: string;
  name: string | null;
  cron: string;
  timezone: string;
  enabled: boolean;
  payload_json: unknown;
  last_run_at: Date | null;
  last_run_status: string | null;
  last_error: string | null;
  created_at: Date | null;
}

export interface EndpointRow {
  id: string;
  method: string;
  path: string;
  handler: string;
  schedulable: boolean;
}

/** An install is active only when `is_enabled AND status = 'enabled'` (docs/production-contract.md#active-install). `$1` is its id. */
export const ACTIVE_INSTALL_SELECT = `SELECT id, tenant_id, version_id, registry_id FROM tenant_extension_install
  WHERE id = $1::uuid AND is_enabled AND status = 'enabled'`;

/**
 * Locks the install row for the rest of the transaction and touches its `updated_at` (production
 * touches it on every mutation), in one statement. Holding the lock serializes this install's
 * mutations, so a later statement's quota count sees every committed schedule.
 */
export async function lockAndTouchInstall(q: Queryable, installId: string, tenantId: string): Promise<boolean> {
  const res = await q.query(`UPDATE tenant_extension_install SET updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING id`, [
    installId,
    tenantId,
  ]);
  return (res.rowCount ?? 0) > 0;
}

export interface NewScheduleRequest {
  id: string;
  installId: string;
  tenantId: string;
  versionId: string;
  /** The selector, parsed: null method means "GET or POST" (parseEndpointSelector). */
  method: string | null;
  path: string;
  name: string | null;
  cron: string;
  timezone: string;
  enabled: boolean;
  payloadJson: string | null;
  /** The job engine's `alga_schedule_recurring_job` argument, or null for no job (disabled). */
  jobArgument: string | null;
}

/** Why `alga_create_extension_schedule` refused, by the SQLSTATE it raised (migration 004). */
const CREATE_REFUSALS = {
  AL001: 'install-not-found',
  AL002: 'endpoint-missing',
  AL003: 'endpoint-not-schedulable',
  AL004: 'over-quota',
} as const;
export type CreateRefusal = (typeof CREATE_REFUSALS)[keyof typeof CREATE_REFUSALS];

export function createRefusalOf(err: unknown): CreateRefusal | null {
  const code = (err as { code?: string })?.code;
  return code && Object.hasOwn(CREATE_REFUSALS, code) ? CREATE_REFUSALS[code as keyof typeof CREATE_REFUSALS] : null;
}

/**
 * The whole create (install lock, endpoint, quota, job, row) as one statement with its values as
 * literals, for withOneStatementTransaction. Refusals raise (see createRefusalOf).
 */
export function createScheduleStatement(s: NewScheduleRequest, max: number): string {
  const args = [
    `p_id => ${sqlLiteral(s.id)}::uuid`,
    `p_install_id => ${sqlLiteral(s.installId)}::uuid`,
    `p_tenant_id => ${sqlLiteral(s.tenantId)}::varchar`,
    `p_version_id => ${sqlLiteral(s.versionId)}::uuid`,
    `p_method => ${sqlLiteral(s.method)}::text`,
    `p_path => ${sqlLiteral(s.path)}::text`,
    `p_name => ${sqlLiteral(s.name)}::varchar`,
    `p_cron => ${sqlLiteral(s.cron)}::text`,
    `p_timezone => ${sqlLiteral(s.timezone)}::varchar`,
    `p_enabled => ${sqlLiteral(s.enabled)}::boolean`,
    `p_payload_json => ${sqlLiteral(s.payloadJson)}::jsonb`,
    `p_max => ${sqlLiteral(max)}::integer`,
    `p_job => ${sqlLiteral(s.jobArgument)}::jsonb`,
  ];
  return `SELECT alga_create_extension_schedule(${args.join(', ')})`;
}

export async function selectScheduleForUpdate(q: Queryable, scheduleId: string, installId: string, tenantId: string): Promise<ScheduleRow | null> {
  const res = await q.query<ScheduleRow>(
    `SELECT id, install_id, tenant_id, endpoint_id, name, cron, timezone, enabled, job_id, runner_schedule_id
       FROM tenant_extension_schedule WHERE id = $1 AND install_id = $2 AND tenant_id = $3 FOR UPDATE`,
    [scheduleId, installId, tenantId],
  );
  return res.rows[0] ?? null;
}

export interface SchedulePatch {
  endpointId: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  jobId: string | null;
  runnerScheduleId: string | null;
  /** undefined keeps the stored value (docs/differences.md#partial-update). */
  name?: string | null;
  payloadJson?: string | null;
}

export async function updateSchedule(q: Queryable, scheduleId: string, tenantId: string, p: SchedulePatch): Promise<void> {
  // The stored payload is never round-tripped through JavaScript when kept (jsonb numbers stay exact).
  await q.query(
    `UPDATE tenant_extension_schedule SET
        endpoint_id = $3, cron = $4, timezone = $5, enabled = $6, job_id = $7, runner_schedule_id = $8,
        name = CASE WHEN $9::boolean THEN $10 ELSE name END,
        payload_json = CASE WHEN $11::boolean THEN $12::jsonb ELSE payload_json END,
        updated_at = now()
      WHERE id = $1 AND tenant_id = $2`,
    [
      scheduleId,
      tenantId,
      p.endpointId,
      p.cron,
      p.timezone,
      p.enabled,
      p.jobId,
      p.runnerScheduleId,
      p.name !== undefined,
      p.name ?? null,
      p.payloadJson !== undefined,
      p.payloadJson ?? null,
    ],
  );
}

export async function deleteSchedule(q: Queryable, scheduleId: string, tenantId: string): Promise<void> {
  await q.query(`DELETE FROM tenant_extension_schedule WHERE id = $1 AND tenant_id = $2`, [scheduleId, tenantId]);
}

// Inner join, as production: a schedule whose endpoint row is gone is omitted.
const SCHEDULE_INFO_SELECT = `SELECT s.id, e.path AS endpoint_path, e.method AS endpoint_method, s.name, s.cron, s.timezone,
    s.enabled, s.payload_json, s.last_run_at, s.last_run_status, s.last_error, s.created_at
  FROM tenant_extension_schedule s JOIN extension_api_endpoint e ON e.id = s.endpoint_id`;

/**
 * The active install and its schedules in one query (the internal API's list: no separate install
 * lookup). null when the install is unknown or inactive; one row with no schedule when it has none.
 */
export async function listScheduleInfoOfActiveInstall(q: Queryable, installId: string): Promise<{ install: InstallRow; rows: ScheduleInfoRow[] } | null> {
  type Row = Omit<InstallRow, 'id'> & { install_id: string } & { [K in keyof ScheduleInfoRow]: ScheduleInfoRow[K] | null };
  const res = await q.query<Row>(
    `WITH install AS (${ACTIVE_INSTALL_SELECT})
     SELECT install.id AS install_id, install.tenant_id, install.version_id, install.registry_id, x.*
       FROM install LEFT JOIN LATERAL (
         ${SCHEDULE_INFO_SELECT} WHERE s.install_id = install.id AND s.tenant_id = install.tenant_id
       ) x ON true
      ORDER BY x.created_at ASC, x.id ASC`,
    [installId],
  );
  const first = res.rows[0];
  if (!first) return null;
  const install = { id: first.install_id, tenant_id: first.tenant_id, version_id: first.version_id, registry_id: first.registry_id };
  // The LEFT JOIN's one all-null row for an install without schedules has no id.
  const rows = res.rows.filter((r) => r.id !== null).map(({ install_id: _i, tenant_id: _t, version_id: _v, registry_id: _r, ...info }) => info as ScheduleInfoRow);
  return { install, rows };
}

export async function getScheduleInfo(q: Queryable, scheduleId: string, installId: string, tenantId: string): Promise<ScheduleInfoRow | null> {
  const res = await q.query<ScheduleInfoRow>(`${SCHEDULE_INFO_SELECT} WHERE s.id = $1 AND s.install_id = $2 AND s.tenant_id = $3`, [
    scheduleId,
    installId,
    tenantId,
  ]);
  return res.rows[0] ?? null;
}

export async function listVersionEndpoints(q: Queryable, versionId: string): Promise<EndpointRow[]> {
  const res = await q.query<EndpointRow>(
    `SELECT id, method, path, handler, alga_endpoint_schedulable(method, path) AS schedulable
       FROM extension_api_endpoint WHERE version_id = $1 ORDER BY path ASC, method ASC`,
    [versionId],
  );
  return res.rows;
}

/** The names of these schedules by id (a schedule without a name: ""); unknown ids are left out. */
export async function scheduleNames(q: Queryable, scheduleIds: string[]): Promise<Map<string, string>> {
  const res = await q.query<{ id: string; name: string | null }>(`SELECT id, name FROM tenant_extension_schedule WHERE id = ANY($1::uuid[])`, [scheduleIds]);
  return new Map(res.rows.map((r) => [r.id, r.name ?? '']));
}
