/**
 * `scheduler` (cap:scheduler.manage): each call becomes one request to the platform's scheduler
 * API (in-process or over HTTP, same shapes), and `replyToWit` is the one place where its answer
 * becomes the WIT value. Fixes over production (docs/differences.md#field-errors, #partial-update,
 * #error-categories): the body of a 4xx answer is
 * read for create/update/delete, so the guest gets the real error and field errors; update sends
 * only the fields the guest gave.
 */
import { err, ok, type ExecutionContext, type HostInterface, type OutcomeOf } from './types.js';
import { sortedJson } from '../../shared/encoding.js';
import type { FunctionName } from '../world.js';
import type { SchedulerOperation, SchedulerRequest, SchedulerReply } from '../ports.js';
import type {
  CreateScheduleInput,
  CreateScheduleResult,
  EndpointInfo,
  ScheduleInfo,
  SchedulerError,
  UpdateScheduleInput,
} from '../wit-types/interfaces/alga-extension-types.js';

export const NOT_GRANTED = 'Permission denied: cap:scheduler.manage not granted';
export const INSTALL_MISSING = 'Install ID missing';
export const PAYLOAD_NOT_JSON = 'Payload must be valid JSON object or array';

type RecordOp = 'create' | 'update' | 'delete';
const isRecordOp = (op: SchedulerOperation): op is RecordOp => op === 'create' || op === 'update' || op === 'delete';

/** Production's status mapping for the enum-returning operations (docs/production-contract.md#scheduler-callback). */
export function statusToSchedulerError(status: number): SchedulerError {
  if (status === 401 || status === 403) return 'denied';
  if (status === 404) return 'not-found';
  if (status === 400) return 'validation-failed';
  if (status === 429) return 'quota-exceeded';
  return 'internal';
}

export { sortedJson };

const pick = (o: Record<string, unknown>, camel: string, snake: string): unknown => (camel in o ? o[camel] : o[snake]);
const optString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A schedule from the API → `schedule-info`; an item missing a required field is dropped (production). */
export function toWitScheduleInfo(raw: unknown): ScheduleInfo | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  const id = o.id;
  const path = pick(o, 'endpointPath', 'endpoint_path');
  const method = pick(o, 'endpointMethod', 'endpoint_method');
  const cron = o.cron;
  const timezone = o.timezone;
  const enabled = o.enabled;
  if (typeof id !== 'string' || typeof path !== 'string' || typeof method !== 'string') return undefined;
  if (typeof cron !== 'string' || typeof timezone !== 'string' || typeof enabled !== 'boolean') return undefined;
  const payload = o.payload;
  return {
    id,
    endpointPath: path,
    endpointMethod: method,
    name: optString(o.name),
    cron,
    timezone,
    enabled,
    payload: payload === null || payload === undefined ? undefined : typeof payload === 'string' ? payload : sortedJson(payload),
    lastRunAt: optString(pick(o, 'lastRunAt', 'last_run_at')),
    lastRunStatus: optString(pick(o, 'lastRunStatus', 'last_run_status')),
    lastError: optString(pick(o, 'lastError', 'last_error')),
    createdAt: optString(pick(o, 'createdAt', 'created_at')),
  };
}

export function toEndpointInfo(raw: unknown): EndpointInfo | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  const { id, method, path, handler, schedulable } = o;
  if (typeof id !== 'string' || typeof method !== 'string' || typeof path !== 'string') return undefined;
  if (typeof handler !== 'string' || typeof schedulable !== 'boolean') return undefined;
  return { id, method, path, handler, schedulable };
}

/** zod's flattened `{fieldErrors: {field: [messages]}}` → `{field: first message}`, or undefined. */
function schemaFieldErrors(details: unknown): Record<string, string> | undefined {
  const fe = (details as { fieldErrors?: Record<string, unknown> } | null | undefined)?.fieldErrors;
  if (!fe || typeof fe !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fe)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return Object.keys(out).length ? out : undefined;
}

function fieldErrorsJson(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

type SchedulerFn = FunctionName<'alga:extension/scheduler'>;
/** The WIT function each API operation serves. */
const FUNCTION_OF = {
  list: 'listSchedules',
  get: 'getSchedule',
  getEndpoints: 'getEndpoints',
  create: 'createSchedule',
  update: 'updateSchedule',
  delete: 'deleteSchedule',
} as const satisfies Record<SchedulerOperation, SchedulerFn>;
/** What the guest receives for operation `Op`, typed by its WIT function. */
export type SchedulerOutcome<Op extends SchedulerOperation> = OutcomeOf<'alga:extension/scheduler', (typeof FUNCTION_OF)[Op]>;

function bodyOf(reply: SchedulerReply): Record<string, unknown> | undefined {
  return reply.body && typeof reply.body === 'object' ? (reply.body as Record<string, unknown>) : undefined;
}
const succeeded = (reply: SchedulerReply) => reply.status >= 200 && reply.status < 300;

/** create/update/delete answer a result record (never an enum), whatever the status. */
function recordReply(op: RecordOp, reply: SchedulerReply): { ok: CreateScheduleResult } {
  const body = bodyOf(reply);
  if (body && typeof body.success === 'boolean') {
    const result: CreateScheduleResult = { success: body.success, error: optString(body.error) };
    if (op === 'create') result.scheduleId = optString(pick(body, 'scheduleId', 'schedule_id'));
    if (op !== 'delete') result.fieldErrors = fieldErrorsJson(pick(body, 'fieldErrors', 'field_errors'));
    if (!body.success && !result.error) result.error = `Failed to ${op} schedule`;
    return ok(result);
  }
  if (succeeded(reply)) return ok({ success: true });
  // Route-level refusals (auth, install, rate limit, schema) carry `{error}`: pass that text on,
  // never a debug rendering; a schema refusal's per-field messages become field errors.
  let error = optString(body?.error) ?? `Scheduler request failed (HTTP ${reply.status})`;
  const fields = schemaFieldErrors(body?.details);
  if (fields) error = `${error}: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; ')}`;
  return ok(op === 'delete' || !fields ? { success: false, error } : { success: false, error, fieldErrors: JSON.stringify(fields) });
}

/** The one translation from the scheduler API's answer to the WIT value the guest receives, per operation. */
const ANSWER: { [Op in SchedulerOperation]: (reply: SchedulerReply) => SchedulerOutcome<Op> } = {
  list: (reply) => {
    if (!succeeded(reply)) return err(statusToSchedulerError(reply.status));
    const items = bodyOf(reply)?.schedules;
    return ok((Array.isArray(items) ? items : []).map(toWitScheduleInfo).filter((s): s is ScheduleInfo => s !== undefined));
  },
  get: (reply) => (succeeded(reply) ? ok(toWitScheduleInfo(bodyOf(reply)?.schedule)) : err(statusToSchedulerError(reply.status))),
  getEndpoints: (reply) => {
    if (!succeeded(reply)) return err(statusToSchedulerError(reply.status));
    const items = bodyOf(reply)?.endpoints;
    return ok((Array.isArray(items) ? items : []).map(toEndpointInfo).filter((e): e is EndpointInfo => e !== undefined));
  },
  create: (reply) => recordReply('create', reply),
  update: (reply) => recordReply('update', reply),
  delete: (reply) => recordReply('delete', reply),
};

export function replyToWit<Op extends SchedulerOperation>(op: Op, reply: SchedulerReply): SchedulerOutcome<Op> {
  return ANSWER[op](reply);
}

/** Refusals before any call: a record with the message for create/update/delete, `denied` otherwise. */
const REFUSE: { [Op in SchedulerOperation]: (message: string) => SchedulerOutcome<Op> } = {
  list: () => err('denied'),
  get: () => err('denied'),
  getEndpoints: () => err('denied'),
  create: (error) => ok({ success: false, error }),
  update: (error) => ok({ success: false, error }),
  delete: (error) => ok({ success: false, error }),
};

/** Parses a guest payload string; production answers a parse failure locally with a field error. */
function parsePayload(raw: string): { value: unknown } | { refused: { ok: CreateScheduleResult } } {
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { refused: ok({ success: false, error: PAYLOAD_NOT_JSON, fieldErrors: JSON.stringify({ payload: PAYLOAD_NOT_JSON }) }) };
  }
}

async function call<Op extends SchedulerOperation>(
  ctx: ExecutionContext,
  request: Extract<SchedulerRequest, { operation: Op }>,
  signal: AbortSignal,
): Promise<SchedulerOutcome<Op>> {
  const op: Op = request.operation;
  if (!ctx.granted.has('cap:scheduler.manage')) {
    ctx.logger.warn('scheduler capability denied - cap:scheduler.manage not granted', { operation: op });
    return REFUSE[op](NOT_GRANTED);
  }
  const installId = ctx.context.installId;
  if (!installId) return REFUSE[op](INSTALL_MISSING);
  const backend = ctx.services.scheduler;
  if (!backend) return replyToWit(op, { status: 503, body: { error: 'Scheduler service unavailable' } });
  let reply: SchedulerReply;
  try {
    reply = await backend.call(installId, request, signal);
  } catch (e) {
    ctx.logger.error('scheduler_request error', { operation: op, error: (e as Error).message });
    reply = { status: 502, body: { error: `Scheduler request failed: ${(e as Error).message}` } };
  }
  return replyToWit(op, reply);
}

function createRequest(input: CreateScheduleInput): Extract<SchedulerRequest, { operation: 'create' }> | { ok: CreateScheduleResult } {
  const req: Extract<SchedulerRequest, { operation: 'create' }> = { operation: 'create', endpoint: input.endpoint, cron: input.cron };
  if (input.timezone !== undefined) req.timezone = input.timezone;
  if (input.enabled !== undefined) req.enabled = input.enabled;
  if (input.name !== undefined) req.name = input.name;
  if (input.payload !== undefined) {
    const parsed = parsePayload(input.payload);
    if ('refused' in parsed) return parsed.refused;
    req.payload = parsed.value;
  }
  return req;
}

/** Only the fields the guest set are sent (production sent name and payload always, clearing them). */
function updateRequest(scheduleId: string, input: UpdateScheduleInput): Extract<SchedulerRequest, { operation: 'update' }> | { ok: CreateScheduleResult } {
  const req: Extract<SchedulerRequest, { operation: 'update' }> = { operation: 'update', scheduleId };
  if (input.endpoint !== undefined) req.endpoint = input.endpoint;
  if (input.cron !== undefined) req.cron = input.cron;
  if (input.timezone !== undefined) req.timezone = input.timezone;
  if (input.enabled !== undefined) req.enabled = input.enabled;
  if (input.name !== undefined) req.name = input.name;
  if (input.payload !== undefined) {
    if (input.payload.trim() === '') req.payload = null; // the WIT comment: an empty string clears
    else {
      const parsed = parsePayload(input.payload);
      if ('refused' in parsed) return parsed.refused;
      req.payload = parsed.value;
    }
  }
  return req;
}

const isRefusal = (v: SchedulerRequest | { ok: CreateScheduleResult }): v is { ok: CreateScheduleResult } => !('operation' in v);

export const scheduler: HostInterface<'alga:extension/scheduler'> = {
  functions: {
    listSchedules: (ctx, [], signal) => call(ctx, { operation: 'list' }, signal),
    getSchedule: (ctx, [scheduleId], signal) => call(ctx, { operation: 'get', scheduleId }, signal),
    getEndpoints: (ctx, [], signal) => call(ctx, { operation: 'getEndpoints' }, signal),
    createSchedule: (ctx, [input], signal) => {
      const req = createRequest(input);
      return isRefusal(req) ? req : call(ctx, req, signal);
    },
    updateSchedule: (ctx, [scheduleId, input], signal) => {
      const req = updateRequest(scheduleId, input);
      return isRefusal(req) ? req : call(ctx, req, signal);
    },
    deleteSchedule: (ctx, [scheduleId], signal) => call(ctx, { operation: 'delete', scheduleId }, signal),
  },
  onInternalError: (fn) => {
    if (fn === 'createSchedule' || fn === 'updateSchedule' || fn === 'deleteSchedule') {
      return ok({ success: false, error: 'Internal error' });
    }
    return err('internal');
  },
};
