import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { TransactionCancelledError, withOneStatementTransaction, withTransaction } from '../db/database.js';
import type { Logger } from '../../shared/logger.js';
import { parseEndpointSelector, resolveScheduleEndpoint } from './endpoint-resolution.js';
import type { JobEngine, ScheduledJobHandles } from './job-engine.js';
import { recurringJobFor } from './job-engine.js';
import { recordSchedulerCall, type SchedulerOperationName } from './metrics.js';
import { materializeEndpoints } from '../registry/endpoints.js';
import * as store from './schedule-store.js';
import {
  MAX_SCHEDULES_PER_INSTALL,
  MESSAGES,
  ScheduleInputError,
  assertMinimumInterval,
  validateCronSyntax,
  validateEnabled,
  validateName,
  validatePayload,
  validateScheduleId,
  validateTimezone,
} from './validation.js';
import { isGuid } from '../../shared/uuid.js';

/** The calling install, as the internal API derives it from the URL (the tenant never comes from the caller). */
export interface InstallContext {
  tenantId: string;
  installId: string;
  versionId: string;
  registryId: string;
}

/** Values as they arrive in the internal API body; validation converts and checks them. */
export interface CreateScheduleInput {
  endpoint: unknown;
  cron: unknown;
  timezone?: unknown;
  enabled?: unknown;
  name?: unknown;
  payload?: unknown;
}

/** Absent (undefined) keys are left as stored; `name: null|""` and `payload: null|""` clear
 * (docs/differences.md#partial-update). */
export interface UpdateScheduleInput {
  endpoint?: unknown;
  cron?: unknown;
  timezone?: unknown;
  enabled?: unknown;
  name?: unknown;
  payload?: unknown;
}

/** Production's result shapes (docs/production-contract.md#scheduler-shapes, #scheduler-operations). */
export interface ScheduleMutationResult {
  success: boolean;
  scheduleId?: string;
  error?: string;
  fieldErrors?: Record<string, string>;
}

export interface ScheduleInfo {
  id: string;
  endpointPath: string;
  endpointMethod: string;
  name: string | null;
  cron: string;
  timezone: string;
  enabled: boolean;
  payload: unknown;
  lastRunAt: string | null;
  lastRunStatus: string | null;
  lastError: string | null;
  createdAt: string | null;
}

/** An endpoint as getEndpoints answers it: the stored row (method upper-cased). */
export type EndpointInfo = store.EndpointRow;

export interface SchedulerService {
  /** The active install (`is_enabled AND status='enabled'`) with this id and its schedules, in one
   * query; null for an unknown, inactive or non-UUID id. */
  listForInstall(installId: string): Promise<{ ctx: InstallContext; schedules: ScheduleInfo[] } | null>;
  /** null for an unknown id or another install's schedule; throws ScheduleInputError for a non-UUID id. */
  get(ctx: InstallContext, scheduleId: string): Promise<ScheduleInfo | null>;
  /** Mutations take the caller's signal: fired before commit, the change is rolled back. */
  create(ctx: InstallContext, input: CreateScheduleInput, signal?: AbortSignal): Promise<ScheduleMutationResult>;
  update(ctx: InstallContext, scheduleId: string, input: UpdateScheduleInput, signal?: AbortSignal): Promise<ScheduleMutationResult>;
  delete(ctx: InstallContext, scheduleId: string, signal?: AbortSignal): Promise<ScheduleMutationResult>;
  getEndpoints(ctx: InstallContext): Promise<EndpointInfo[]>;
}

export interface SchedulerServiceDeps {
  pool: pg.Pool;
  jobs: JobEngine;
  logger?: Logger;
  /** The clock cron validation scans from (tests pin it). */
  now?: () => Date;
}

const CANCEL_BEFORE_RESCHEDULE_FAILED = 'Failed to cancel existing schedule (cannot reschedule)';
const CANCEL_BEFORE_DISABLE_FAILED = 'Failed to cancel existing schedule (cannot disable)';
const CANCEL_BEFORE_DELETE_FAILED = 'Failed to cancel runner schedule (not deleted)';
const NAME_UNIQUE_INDEX = 'tenant_extension_schedule_install_name_uniq';

/** A business "no" raised inside a transaction so that everything done so far rolls back. */
class Refusal extends Error {
  constructor(readonly result: ScheduleMutationResult) {
    super(result.error);
  }
}

function refuse(error: string, field?: string): never {
  throw new Refusal({ success: false, error, ...(field ? { fieldErrors: { [field]: error } } : {}) });
}

function inputFailure(err: ScheduleInputError): ScheduleMutationResult {
  return { success: false, error: err.message, ...(err.field ? { fieldErrors: { [err.field]: err.message } } : {}) };
}

/** The one place Postgres errors become caller-facing results; anything else stays an internal error. */
export function scheduleErrorFromPg(err: unknown): ScheduleInputError | null {
  const e = err as { code?: string; constraint?: string };
  if (e?.code === '23505' && e.constraint === NAME_UNIQUE_INDEX) return new ScheduleInputError('name', MESSAGES.nameInUse);
  return null;
}

/** Turns what a mutation threw into its result; rethrows what is not a caller-facing failure. */
function failureResult(err: unknown): ScheduleMutationResult {
  if (err instanceof Refusal) return err.result;
  if (err instanceof TransactionCancelledError) return { success: false, error: err.message };
  if (err instanceof ScheduleInputError) return inputFailure(err);
  const mapped = scheduleErrorFromPg(err);
  if (mapped) return inputFailure(mapped);
  throw err;
}

interface ValidCreate {
  endpoint: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  payloadJson: string | null;
  name: string | null;
}

/** Production's order: cron → timezone → enabled → payload → name; the first failure throws. */
function validateCreate(input: CreateScheduleInput, now: Date): ValidCreate {
  const cron = validateCronSyntax(input.cron);
  assertMinimumInterval(cron, typeof input.timezone === 'string' ? input.timezone.trim() : undefined, now);
  return {
    endpoint: String(input.endpoint ?? ''),
    cron,
    timezone: validateTimezone(input.timezone),
    enabled: validateEnabled(input.enabled),
    payloadJson: validatePayload(input.payload),
    name: validateName(input.name),
  };
}

function truthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== false;
}

export function installContextOf(row: store.InstallRow): InstallContext {
  return { tenantId: row.tenant_id, installId: row.id, versionId: row.version_id, registryId: row.registry_id };
}

function toScheduleInfo(r: store.ScheduleInfoRow): ScheduleInfo {
  return {
    id: r.id,
    endpointPath: r.endpoint_path,
    endpointMethod: r.endpoint_method,
    name: r.name,
    cron: r.cron,
    timezone: r.timezone,
    enabled: r.enabled,
    payload: r.payload_json ?? null,
    lastRunAt: r.last_run_at ? r.last_run_at.toISOString() : null,
    lastRunStatus: r.last_run_status,
    lastError: r.last_error,
    createdAt: r.created_at ? r.created_at.toISOString() : null,
  };
}

/**
 * The scheduler host API on Postgres: one function per operation, each mutation one transaction
 * that also carries the job engine's writes, so a failure at any step leaves nothing behind.
 * @example
 *   const svc = createSchedulerService({ pool, jobs: createPostgresJobEngine() });
 *   const admitted = await createAdmission({ pool }).admit(installId, true); // rate-limit.ts
 *   if (admitted?.allowed) await svc.create(admitted.install, { endpoint: 'POST /sync', cron: '*\/15 * * * *' });
 */
export function createSchedulerService(deps: SchedulerServiceDeps): SchedulerService {
  const { pool, jobs, logger } = deps;
  const now = deps.now ?? (() => new Date());

  async function instrument<T>(
    operation: SchedulerOperationName,
    ctx: InstallContext,
    scheduleId: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const base = { operation, tenantId: ctx.tenantId, installId: ctx.installId };
    try {
      const result = await fn();
      const r = result as ScheduleMutationResult | undefined;
      const failed = r !== null && typeof r === 'object' && 'success' in r && r.success === false;
      recordSchedulerCall(logger, {
        ...base,
        scheduleId: scheduleId ?? r?.scheduleId,
        outcome: failed ? 'failed' : 'ok',
        durationMs: performance.now() - started,
        ...(failed ? { error: r?.error } : {}),
      });
      return result;
    } catch (err) {
      const outcome = err instanceof ScheduleInputError ? 'failed' : 'error';
      recordSchedulerCall(logger, { ...base, scheduleId, outcome, durationMs: performance.now() - started, error: (err as Error)?.message });
      throw err;
    }
  }

  function scheduleJob(tx: pg.PoolClient, ctx: InstallContext, scheduleId: string, cron: string, timezone: string): Promise<ScheduledJobHandles> {
    return jobs.scheduleRecurring(
      tx,
      recurringJobFor({ tenantId: ctx.tenantId, installId: ctx.installId, scheduleId, cron, timezone, trigger: 'host_api' }),
    );
  }

  async function lockInstallOrRefuse(tx: pg.PoolClient, ctx: InstallContext): Promise<void> {
    if (!(await store.lockAndTouchInstall(tx, ctx.installId, ctx.tenantId))) refuse('Install not found');
  }

  /** Update and delete: the install lock first (as every mutation), then the schedule's row. */
  async function lockScheduleOrRefuse(tx: pg.PoolClient, ctx: InstallContext, scheduleId: string): Promise<store.ScheduleRow> {
    await lockInstallOrRefuse(tx, ctx);
    const row = await store.selectScheduleForUpdate(tx, scheduleId, ctx.installId, ctx.tenantId);
    if (!row) refuse(MESSAGES.scheduleNotFound);
    return row;
  }

  /**
   * The whole create is one statement: the install lock (held to commit, so concurrent creates for
   * this install queue and the 50-per-install quota cannot be overshot, docs/differences.md#atomic-quota),
   * the endpoint, the quota, the engine's job and the row; BEGIN + statement, then COMMIT, is two
   * round trips. An endpoint not found once makes us materialize the version's endpoints and try
   * again (docs/production-contract.md#scheduler-endpoints).
   */
  async function createInOneStatement(ctx: InstallContext, scheduleId: string, f: ValidCreate, signal?: AbortSignal): Promise<void> {
    const selector = parseEndpointSelector(f.endpoint);
    if (!selector) refuse(MESSAGES.endpointNotSchedulable, 'endpoint');
    const { method, path } = selector;
    const job = recurringJobFor({ tenantId: ctx.tenantId, installId: ctx.installId, scheduleId, cron: f.cron, timezone: f.timezone, trigger: 'host_api' });
    const statement = store.createScheduleStatement(
      {
        id: scheduleId,
        installId: ctx.installId,
        tenantId: ctx.tenantId,
        versionId: ctx.versionId,
        method,
        path,
        name: f.name,
        cron: f.cron,
        timezone: f.timezone,
        enabled: f.enabled,
        payloadJson: f.payloadJson,
        jobArgument: f.enabled ? jobs.recurringJobArgument(job) : null,
      },
      MAX_SCHEDULES_PER_INSTALL,
    );
    for (let attempt = 0; ; attempt++) {
      try {
        await withOneStatementTransaction(pool, statement, signal);
        return;
      } catch (err) {
        const refusal = store.createRefusalOf(err);
        if (refusal === 'endpoint-missing' && attempt === 0 && (await materializeEndpoints(pool, ctx.versionId)) > 0) continue;
        if (refusal === 'install-not-found') refuse('Install not found');
        if (refusal === 'endpoint-missing' || refusal === 'endpoint-not-schedulable') refuse(MESSAGES.endpointNotSchedulable, 'endpoint');
        if (refusal === 'over-quota') refuse(MESSAGES.tooManySchedules);
        throw err;
      }
    }
  }

  return {
    async listForInstall(installId) {
      if (!isGuid(installId)) return null;
      const started = performance.now();
      let found;
      try {
        found = await store.listScheduleInfoOfActiveInstall(pool, installId);
      } catch (err) {
        recordSchedulerCall(logger, { operation: 'list', installId, outcome: 'error', durationMs: performance.now() - started, error: (err as Error)?.message });
        throw err;
      }
      if (!found) return null;
      const ctx = installContextOf(found.install);
      recordSchedulerCall(logger, { operation: 'list', tenantId: ctx.tenantId, installId, outcome: 'ok', durationMs: performance.now() - started });
      return { ctx, schedules: found.rows.map(toScheduleInfo) };
    },

    get(ctx, scheduleId) {
      return instrument('get', ctx, scheduleId, async () => {
        const id = String(scheduleId ?? '').trim();
        if (!isGuid(id)) throw new ScheduleInputError('scheduleId', MESSAGES.scheduleIdInvalid);
        // Unlike production, a database failure is an error, not "null" (docs/differences.md#error-categories).
        const row = await store.getScheduleInfo(pool, id, ctx.installId, ctx.tenantId);
        return row ? toScheduleInfo(row) : null;
      });
    },

    getEndpoints(ctx) {
      return instrument('getEndpoints', ctx, undefined, async () => {
        let rows = await store.listVersionEndpoints(pool, ctx.versionId);
        if (rows.length === 0 && (await materializeEndpoints(pool, ctx.versionId)) > 0) {
          rows = await store.listVersionEndpoints(pool, ctx.versionId);
        }
        return rows.map((r) => ({ ...r, method: r.method.toUpperCase() }));
      });
    },

    create(ctx, input, signal) {
      return instrument('create', ctx, undefined, async () => {
        let fields: ValidCreate;
        try {
          fields = validateCreate(input, now());
        } catch (err) {
          return failureResult(err);
        }
        const scheduleId = randomUUID();
        try {
          await createInOneStatement(ctx, scheduleId, fields, signal);
          return { success: true, scheduleId };
        } catch (err) {
          return failureResult(err);
        }
      });
    },

    update(ctx, rawScheduleId, input, signal) {
      return instrument('update', ctx, rawScheduleId, async () => {
        let scheduleId: string;
        let cron: string | undefined, timezone: string | undefined;
        let name: string | null | undefined, payloadJson: string | null | undefined;
        try {
          scheduleId = validateScheduleId(rawScheduleId);
          // As production: cron, timezone and endpoint are looked at only when truthy.
          if (truthy(input.cron)) cron = validateCronSyntax(input.cron);
          if (truthy(input.timezone)) timezone = validateTimezone(input.timezone);
          if (input.payload !== undefined) payloadJson = input.payload === '' ? null : validatePayload(input.payload);
          if (input.name !== undefined) name = validateName(input.name);
        } catch (err) {
          return failureResult(err);
        }
        try {
          return await withTransaction(pool, async (tx) => {
            const row = await lockScheduleOrRefuse(tx, ctx, scheduleId);
            let endpointId = row.endpoint_id;
            if (truthy(input.endpoint)) {
              const endpoint = await resolveScheduleEndpoint(tx, ctx.versionId, String(input.endpoint));
              if (!endpoint) refuse(MESSAGES.endpointNotSchedulable, 'endpoint');
              endpointId = endpoint.id;
            }
            const next = {
              cron: cron ?? row.cron,
              timezone: timezone ?? row.timezone,
              enabled: typeof input.enabled === 'boolean' ? input.enabled : row.enabled,
            };
            // A new cron, or the old cron in a new zone, must meet the minimum interval there
            // (docs/differences.md#minimum-interval).
            if (next.cron !== row.cron || next.timezone !== row.timezone) assertMinimumInterval(next.cron, next.timezone, now());
            const needsReschedule = next.cron !== row.cron || next.timezone !== row.timezone || next.enabled !== row.enabled;
            let jobId = row.job_id;
            let runnerScheduleId = row.runner_schedule_id;
            if (needsReschedule) {
              if (row.job_id && !(await jobs.cancel(tx, row.job_id, ctx.tenantId))) {
                refuse(next.enabled ? CANCEL_BEFORE_RESCHEDULE_FAILED : CANCEL_BEFORE_DISABLE_FAILED);
              }
              const handles = next.enabled ? await scheduleJob(tx, ctx, scheduleId, next.cron, next.timezone) : null;
              jobId = handles?.jobId ?? null;
              runnerScheduleId = handles?.externalId ?? null;
            }
            await store.updateSchedule(tx, scheduleId, ctx.tenantId, {
              endpointId,
              ...next,
              jobId,
              runnerScheduleId,
              name,
              payloadJson,
            });
            return { success: true };
          }, signal);
        } catch (err) {
          return failureResult(err);
        }
      });
    },

    delete(ctx, rawScheduleId, signal) {
      return instrument('delete', ctx, rawScheduleId, async () => {
        let scheduleId: string;
        try {
          scheduleId = validateScheduleId(rawScheduleId);
        } catch (err) {
          return failureResult(err);
        }
        try {
          return await withTransaction(pool, async (tx) => {
            const row = await lockScheduleOrRefuse(tx, ctx, scheduleId);
            if (row.job_id) {
              // Production keeps the row when the cancel fails or throws, with this message.
              const cancelled = await jobs.cancel(tx, row.job_id, ctx.tenantId).catch(() => false);
              if (!cancelled) refuse(CANCEL_BEFORE_DELETE_FAILED);
            }
            await store.deleteSchedule(tx, scheduleId, ctx.tenantId);
            return { success: true };
          }, signal);
        } catch (err) {
          return failureResult(err);
        }
      });
    },
  };
}
