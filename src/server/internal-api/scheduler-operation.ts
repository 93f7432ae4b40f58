import { z } from 'zod';
import { isDatabaseUnavailable } from '../../shared/db-outage.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { recordSchedulerCall, type CallOutcome } from '../scheduler/metrics.js';
import type { Admission } from '../scheduler/rate-limit.js';
import type { InstallContext, SchedulerService } from '../scheduler/service.js';
import { CRON_MAX_LENGTH, ENDPOINT_MAX_LENGTH, NAME_MAX_LENGTH, ScheduleInputError, TIMEZONE_MAX_LENGTH } from '../scheduler/validation.js';

/** The internal API's request and answer (shared with the runner, which calls it). */
export type { SchedulerRequest as SchedulerOperationRequest, SchedulerReply as SchedulerOperationReply } from '../../shared/scheduler-api.js';
import type { SchedulerRequest as SchedulerOperationRequest, SchedulerReply as SchedulerOperationReply } from '../../shared/scheduler-api.js';

export interface SchedulerOperationDeps {
  service: SchedulerService;
  /** Install lookup and rate limit, in one statement. */
  admission: Admission;
  logger?: Logger;
}

const OPERATIONS = ['list', 'get', 'create', 'update', 'delete', 'getEndpoints'] as const;
type Operation = (typeof OPERATIONS)[number];
const RATE_LIMITED_OPERATIONS: ReadonlySet<Operation> = new Set(['create', 'update', 'delete']);

const operationSchema = z.object({ operation: z.enum(OPERATIONS) });
// docs/production-contract.md#route-schemas. z.guid() is any 8-4-4-4-12 hex, as loose as production's route check; the service
// applies production's stricter RFC 4122 v1–5 check to update/delete.
const scheduleId = z.guid();
const endpoint = z.string().min(1).max(ENDPOINT_MAX_LENGTH);
const cron = z.string().min(1).max(CRON_MAX_LENGTH);
const timezone = z.string().max(TIMEZONE_MAX_LENGTH);
const name = z.string().max(NAME_MAX_LENGTH);
const operationSchemas = {
  list: z.object({}),
  get: z.object({ scheduleId }),
  create: z.object({
    endpoint,
    cron,
    timezone: timezone.optional(),
    enabled: z.boolean().optional(),
    name: name.optional(),
    payload: z.any().optional(),
  }),
  update: z.object({
    scheduleId,
    endpoint: endpoint.optional(),
    cron: cron.optional(),
    timezone: timezone.optional(),
    enabled: z.boolean().optional(),
    name: name.nullable().optional(),
    payload: z.any().nullable().optional(),
  }),
  delete: z.object({ scheduleId }),
  getEndpoints: z.object({}),
} satisfies Record<Operation, z.ZodType>;

function errorReply(status: number, error: string, code: string, details: unknown = null): SchedulerOperationReply {
  return { status, body: { error, code, details } };
}

/** For the HTTP layer: a body that is not JSON (production's answer). */
export const INVALID_JSON_REPLY: SchedulerOperationReply = errorReply(400, 'Invalid JSON body', 'VALIDATION_FAILED');
/** For the HTTP layer: a missing or wrong `x-runner-auth` (production's answer). */
export const UNAUTHORIZED_REPLY: SchedulerOperationReply = errorReply(401, 'Invalid runner token', 'UNAUTHORIZED');
const INSTALL_NOT_FOUND_REPLY = errorReply(404, 'Install not found', 'NOT_FOUND');
const RATE_LIMITED_REPLY = errorReply(429, 'Too many requests, please try again later', 'RATE_LIMITED');
// Production's 500 body has no `details`; nothing about the failure leaves the server.
const INTERNAL_ERROR_REPLY: SchedulerOperationReply = { status: 500, body: { error: 'Internal error', code: 'INTERNAL_ERROR' } };
/** Postgres unreachable: a retry may succeed (the HTTP route adds Retry-After). */
export const SERVICE_UNAVAILABLE_REPLY: SchedulerOperationReply = errorReply(503, 'Service unavailable: the database is unreachable', 'SERVICE_UNAVAILABLE');

// Production answers a zod failure with {error, details} and no code; we add the code every other
// 400 carries (a superset: production's runner reads only the status).
function zodReply(error: z.ZodError): SchedulerOperationReply {
  return errorReply(400, 'Validation error', 'VALIDATION_FAILED', z.flattenError(error));
}

/**
 * Production's internal scheduler route without its `x-runner-auth` check (the HTTP layer's job),
 * usable in-process with the same request objects. Order: operation → install (docs/differences.md#shared-rate-limit: an
 * unknown install is 404, never rate limited) → rate limit (create/update/delete, valid or not) →
 * per-operation schema → service. The install lookup is one statement with the rate limit for a
 * mutation and with the list itself for `list`. Never throws; an unexpected failure is a 500 without
 * details.
 * @example await handleSchedulerOperation(deps, installId, { operation: 'list' }) // → { status: 200, body: { schedules: [] } }
 */
export async function handleSchedulerOperation(
  deps: SchedulerOperationDeps,
  installId: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<SchedulerOperationReply> {
  const logger = deps.logger ?? silentLogger;
  const started = performance.now();
  let operation: Operation | 'unknown' = 'unknown';
  const turnedAway = (reply: SchedulerOperationReply, outcome: CallOutcome) => {
    recordSchedulerCall(logger, { operation, outcome, installId, durationMs: performance.now() - started });
    return reply;
  };
  try {
    const op = operationSchema.safeParse(body);
    if (!op.success) return turnedAway(zodReply(op.error), 'invalid');
    operation = op.data.operation;
    const id = String(installId ?? '').trim();

    if (operation === 'list') {
      // The install lookup and the list are one query; list takes no arguments and is not rate limited.
      const listed = await deps.service.listForInstall(id);
      if (!listed) return turnedAway(INSTALL_NOT_FOUND_REPLY, 'not_found');
      return { status: 200, body: { schedules: listed.schedules } };
    }

    const admitted = await deps.admission.admit(id, RATE_LIMITED_OPERATIONS.has(operation));
    if (!admitted) return turnedAway(INSTALL_NOT_FOUND_REPLY, 'not_found');
    if (!admitted.allowed) return turnedAway(RATE_LIMITED_REPLY, 'rate_limited');
    const ctx = admitted.install;

    const args = operationSchemas[operation].safeParse(body);
    if (!args.success) return turnedAway(zodReply(args.error), 'invalid');
    return await dispatch(deps.service, ctx, { ...(args.data as object), operation } as AdmittedRequest, signal);
  } catch (err) {
    if (isDatabaseUnavailable(err)) {
      logger.warn('[ext-scheduler-internal] database unavailable', { installId, operation, error: (err as Error)?.message });
      return SERVICE_UNAVAILABLE_REPLY;
    }
    logger.error('[ext-scheduler-internal] unexpected error', { installId, operation, error: (err as Error)?.message });
    return INTERNAL_ERROR_REPLY;
  }
}

/** Every operation but `list`, which is answered with its own install lookup. */
type AdmittedRequest = Exclude<SchedulerOperationRequest, { operation: 'list' }>;

async function dispatch(
  service: SchedulerService,
  ctx: InstallContext,
  req: AdmittedRequest,
  signal?: AbortSignal,
): Promise<SchedulerOperationReply> {
  switch (req.operation) {
    case 'get':
      try {
        return { status: 200, body: { schedule: await service.get(ctx, req.scheduleId) } };
      } catch (err) {
        if (err instanceof ScheduleInputError) return errorReply(400, err.message, 'VALIDATION_FAILED');
        throw err;
      }
    case 'create': {
      const { operation: _op, ...input } = req;
      const result = await service.create(ctx, input, signal);
      return { status: result.success ? 201 : 400, body: result };
    }
    case 'update': {
      const { operation: _op, scheduleId, ...input } = req;
      const result = await service.update(ctx, scheduleId, input, signal);
      return { status: result.success ? 200 : 400, body: result };
    }
    case 'delete': {
      const result = await service.delete(ctx, req.scheduleId, signal);
      return { status: result.success ? 200 : 400, body: result };
    }
    case 'getEndpoints':
      return { status: 200, body: { endpoints: await service.getEndpoints(ctx) } };
  }
}
