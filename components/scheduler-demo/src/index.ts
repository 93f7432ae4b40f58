/**
 * Scheduler demo extension (mirrors production's `sdk/samples/component/scheduler-demo`).
 *
 * - GET    /api/status         health + real timestamp + context; schedulable
 * - POST   /api/setup          idempotently creates "Heartbeat Check" and "Daily Status Check"
 * - GET    /api/schedules      lists this install's schedules
 * - DELETE /api/schedules/:id  deletes one schedule
 * - POST   /api/heartbeat      logs and echoes the scheduled payload; schedulable
 *
 * Every host failure becomes a JSON error with a fitting status (403 for `denied`, …), never a trap.
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import {
  Router,
  context,
  json,
  log,
  scheduler,
  statusForSchedulerError,
  type EndpointInfo,
  type RouteRequest,
  type Schedule,
  type ScheduleMutationError,
} from '../../sdk/host-bindings';

const EXTENSION = 'scheduler-demo';

interface DesiredSchedule {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  cron: string;
  timezone: string;
  payload?: unknown;
}

const DESIRED: DesiredSchedule[] = [
  { name: 'Heartbeat Check', method: 'POST', path: '/api/heartbeat', cron: '*/5 * * * *', timezone: 'UTC', payload: { source: 'auto-setup' } },
  { name: 'Daily Status Check', method: 'GET', path: '/api/status', cron: '0 9 * * *', timezone: 'America/New_York' },
];

const nowIso = (): string => new Date(Date.now()).toISOString();

/** What the request says about how it was triggered (x-alga-trigger & co.: docs/differences.md#identifiable-calls). */
function invocation(req: RouteRequest) {
  const trigger = req.header('x-alga-trigger');
  return {
    scheduled: trigger === 'schedule' || trigger === 'run-now',
    trigger: trigger ?? 'http',
    scheduleId: req.header('x-alga-schedule-id') ?? null,
    scheduledTime: req.header('x-alga-scheduled-time') ?? null,
  };
}

function ctxJson(request: ExecuteRequest) {
  // The request carries the context; context.get() is the host's view of the same thing.
  let host: ReturnType<typeof context.get> | undefined;
  try {
    host = context.get();
  } catch {
    host = undefined;
  }
  const c = host ?? request.context;
  return {
    tenant: c.tenantId,
    extension: c.extensionId,
    install: c.installId ?? null,
    version: c.versionId ?? null,
    requestId: c.requestId ?? null,
  };
}

function mutationStatus(e: ScheduleMutationError): number {
  const m = e.error.toLowerCase();
  if (m.includes('permission denied') || m.includes('denied')) return 403;
  if (m.includes('not found')) return 404;
  if (m.includes('too many requests') || m.includes('rate limit') || m.includes('too many schedules')) return 429;
  return 400;
}

function status(req: RouteRequest): ExecuteResponse {
  const timestamp = nowIso();
  log.info(`[${EXTENSION}] status check at ${timestamp}`);
  return json(200, {
    status: 'healthy',
    timestamp,
    ...ctxJson(req.request),
    invocation: invocation(req),
  });
}

function heartbeat(req: RouteRequest): ExecuteResponse {
  const timestamp = nowIso();
  const payload = req.json();
  const inv = invocation(req);
  log.info(`[${EXTENSION}] heartbeat at ${timestamp} trigger=${inv.trigger} payload=${JSON.stringify(payload ?? null)}`);
  return json(200, {
    event: 'heartbeat',
    timestamp,
    message: 'Scheduled heartbeat executed successfully',
    payload: payload ?? null,
    ...ctxJson(req.request),
    invocation: inv,
  });
}

function setup(_req: RouteRequest): ExecuteResponse {
  log.info(`[${EXTENSION}] starting schedule setup`);

  // 1. Discover endpoints (failure is not fatal: fall back to the manifest paths).
  const eps = scheduler.endpoints();
  const endpoints: EndpointInfo[] = eps.ok ? eps.value : [];
  if (!eps.ok) log.warn(`[${EXTENSION}] getEndpoints failed: ${eps.error}`);
  if (!eps.ok && eps.error === 'denied') {
    return json(403, { error: 'scheduler_denied', message: 'cap:scheduler.manage is not granted to this extension', operation: 'get-endpoints' });
  }

  // 2. Existing schedules: needed to stay idempotent, so a failure here stops the setup.
  const listed = scheduler.list();
  if (!listed.ok) {
    log.error(`[${EXTENSION}] listSchedules failed: ${listed.error}`);
    return json(statusForSchedulerError(listed.error), {
      error: listed.error === 'denied' ? 'scheduler_denied' : 'list_failed',
      message: `Could not list existing schedules: ${listed.error}`,
      operation: 'list-schedules',
      schedulerError: listed.error,
    });
  }
  const existing: Schedule[] = listed.value;

  const created: Array<{ name: string; scheduleId: string; endpoint: string; cron: string; timezone: string }> = [];
  const skipped: Array<{ name: string; scheduleId: string; reason: string }> = [];
  const errors: Array<{ name: string; error: string; fieldErrors?: Record<string, string> }> = [];
  const results: Array<{ name: string; success: boolean; scheduleId?: string; error?: string; fieldErrors?: Record<string, string>; skipped?: boolean }> = [];

  for (const d of DESIRED) {
    const found = existing.find((s) => s.name === d.name);
    if (found) {
      skipped.push({ name: d.name, scheduleId: found.id, reason: 'already exists' });
      results.push({ name: d.name, success: true, scheduleId: found.id, skipped: true });
      continue;
    }
    const ep = endpoints.find((e) => e.method.toUpperCase() === d.method && e.path === d.path);
    const endpoint = `${d.method} ${ep?.path ?? d.path}`;
    const r = scheduler.create({ endpoint, cron: d.cron, timezone: d.timezone, enabled: true, name: d.name, payload: d.payload });
    if (r.ok) {
      log.info(`[${EXTENSION}] created schedule "${d.name}": ${r.value.scheduleId}`);
      created.push({ name: d.name, scheduleId: r.value.scheduleId, endpoint, cron: d.cron, timezone: d.timezone });
      results.push({ name: d.name, success: true, scheduleId: r.value.scheduleId });
    } else {
      log.warn(`[${EXTENSION}] failed to create schedule "${d.name}": ${r.error.error}`);
      errors.push({ name: d.name, ...r.error });
      results.push({ name: d.name, success: false, ...r.error });
    }
  }

  const schedulable = endpoints.filter((e) => e.schedulable).length;
  const body = {
    message: errors.length === 0 ? 'Setup completed successfully' : 'Setup completed with some errors',
    created,
    skipped,
    errors,
    results,
    endpoints: eps.ok ? { discovered: endpoints.length, schedulable } : { discovered: 0, schedulable: 0, error: eps.error },
    timestamp: nowIso(),
  };
  if (errors.length === 0) return json(200, body);
  // Nothing was created and every failure is a permission problem → 403; otherwise partial → 207.
  const allDenied = created.length === 0 && errors.every((e) => mutationStatus(e) === 403);
  return json(allDenied ? 403 : 207, body);
}

function listAll(_req: RouteRequest): ExecuteResponse {
  const r = scheduler.list();
  if (!r.ok) {
    return json(statusForSchedulerError(r.error), {
      error: r.error === 'denied' ? 'scheduler_denied' : 'list_failed',
      message: `Could not list schedules: ${r.error}`,
      schedulerError: r.error,
    });
  }
  log.info(`[${EXTENSION}] listed ${r.value.length} schedules`);
  return json(200, { count: r.value.length, schedules: r.value });
}

function remove(req: RouteRequest): ExecuteResponse {
  const scheduleId = (req.params.id ?? '').trim();
  if (!scheduleId) return json(400, { error: 'invalid_request', message: 'Schedule ID is required' });
  const r = scheduler.delete(scheduleId);
  if (r.ok) {
    log.info(`[${EXTENSION}] deleted schedule ${scheduleId}`);
    return json(200, { deleted: true, scheduleId, message: 'Schedule deleted successfully' });
  }
  const code = mutationStatus(r.error);
  log.warn(`[${EXTENSION}] failed to delete schedule ${scheduleId}: ${r.error.error}`);
  return json(code, {
    deleted: false,
    error: code === 404 ? 'not_found' : code === 403 ? 'scheduler_denied' : 'delete_failed',
    message: r.error.error,
    scheduleId,
  });
}

const app = new Router()
  .get('/api/status', status)
  .post('/api/setup', setup)
  .get('/api/schedules', listAll)
  .delete('/api/schedules/:id', remove)
  .post('/api/heartbeat', heartbeat);

export function handler(request: ExecuteRequest): ExecuteResponse {
  // The router already turns handler exceptions into 500 JSON; this guards the router itself.
  try {
    return app.handle(request);
  } catch (e) {
    return json(500, { error: 'handler_failed', message: e instanceof Error ? e.message : String(e) });
  }
}
