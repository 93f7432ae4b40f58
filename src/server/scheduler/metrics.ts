import { BroadcastChannel, threadId } from 'node:worker_threads';
import { Counter, Histogram, Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../shared/logger.js';

export type SchedulerOperationName = 'list' | 'get' | 'create' | 'update' | 'delete' | 'getEndpoints';

/**
 * `ok`: done (a get that finds nothing included, as production); `failed`: a `success:false` answer
 * (validation, quota, not found, cancel refused); `error`: an unexpected failure (database, engine).
 * Calls the internal API turns away before the service add `not_found`, `rate_limited`, `invalid`
 * (production records nothing for those; we count them so a rejected caller is visible).
 */
export type CallOutcome = 'ok' | 'failed' | 'error' | 'not_found' | 'rate_limited' | 'invalid';

/** One registry for these metrics; the HTTP layer serves it at GET /metrics. */
export const schedulerMetricsRegistry = new Registry();

// Labels are `operation` and `outcome` only. Production also labels by tenant_id; we log the tenant
// on every call instead, because a per-tenant label grows the series without bound (one set per
// tenant × operation × outcome) and Prometheus keeps every series in memory.
const labelNames = ['operation', 'outcome'] as const;

export const schedulerApiCalls = new Counter({
  name: 'extension_scheduler_api_calls_total',
  help: 'Scheduler host API calls',
  labelNames,
  registers: [schedulerMetricsRegistry],
});

export const schedulerApiDuration = new Histogram({
  name: 'extension_scheduler_api_duration_seconds',
  help: 'Scheduler host API call duration in seconds',
  labelNames,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [schedulerMetricsRegistry],
});

export const schedulerApiErrors = new Counter({
  name: 'extension_scheduler_api_errors_total',
  help: 'Scheduler host API calls that did not succeed',
  labelNames,
  registers: [schedulerMetricsRegistry],
});

export function renderMetrics(): Promise<string> {
  return schedulerMetricsRegistry.metrics();
}

export const METRICS_CONTENT_TYPE = schedulerMetricsRegistry.contentType;

export interface CallRecord {
  operation: string;
  outcome: CallOutcome;
  durationMs: number;
  tenantId?: string;
  installId?: string;
  scheduleId?: string;
  error?: string;
}

type Observation = Pick<CallRecord, 'operation' | 'outcome' | 'durationMs'>;

function observe(call: Observation): void {
  const labels = { operation: call.operation, outcome: call.outcome };
  schedulerApiCalls.inc(labels);
  schedulerApiDuration.observe(labels, call.durationMs / 1000);
  if (call.outcome !== 'ok') schedulerApiErrors.inc(labels);
}

/**
 * A sandbox worker that runs the scheduler service itself (docs/sandbox.md#services-in-the-sandbox-worker)
 * has a registry of its own that nothing serves: it sends its observations to the thread that made
 * its spec, whose registry GET /metrics serves. The channel is named by that thread, so only that
 * thread counts them, once, whichever thread a platform runs in. Neither end holds its thread open.
 */
const ownChannel = `alga:scheduler-metrics:${threadId}`;
let listening: BroadcastChannel | undefined;
/** Where sandbox workers send this thread's observations (this thread listens from the first call). */
export function schedulerMetricsChannel(): string {
  if (!listening) {
    listening = new BroadcastChannel(ownChannel);
    listening.onmessage = (e) => {
      // A batch (see `flushSchedulerMetrics`); a single observation is taken too.
      const seen: unknown[] = Array.isArray(e.data) ? e.data : [e.data];
      for (const o of seen) {
        try {
          observe(o as Observation);
        } catch {
          /* a malformed observation is dropped */
        }
      }
    };
    unref(listening);
  }
  return ownChannel;
}

let forwarding: BroadcastChannel | undefined;
/** From now on this thread's observations go to `channel` (another thread's), not to its registry.
 * Per thread: a sandbox worker serves one runner, which lives in one thread. */
export function forwardSchedulerMetrics(channel: string): void {
  if (channel === ownChannel || forwarding?.name === channel) return;
  flushSchedulerMetrics();
  forwarding?.close();
  forwarding = new BroadcastChannel(channel);
  unref(forwarding);
}

/** How long a forwarded observation may wait for the end of its execution before it is sent anyway. */
export const FORWARD_BATCH_MS = 20;
// A message per call cost about 100 µs of CPU per call (the post, the owner thread's wake-up):
// observations are sent in batches, at the end of each execution and FORWARD_BATCH_MS after the
// first one waiting, whichever comes first.
let pending: Observation[] = [];
let pendingTimer: ReturnType<typeof setTimeout> | undefined;
function forward(seen: Observation): void {
  pending.push(seen);
  if (!pendingTimer) {
    pendingTimer = setTimeout(flushSchedulerMetrics, FORWARD_BATCH_MS);
    pendingTimer.unref();
  }
}
/** Sends the observations this thread holds for another thread's registry (none when it forwards none). */
export function flushSchedulerMetrics(): void {
  if (pendingTimer) clearTimeout(pendingTimer);
  pendingTimer = undefined;
  if (!pending.length || !forwarding) return;
  const batch = pending;
  pending = [];
  try {
    forwarding.postMessage(batch);
  } catch {
    /* swallowed, as production does */
  }
}

function unref(c: BroadcastChannel): void {
  (c as unknown as { unref(): void }).unref();
}

/** Metrics plus one structured log line per call. Never throws: observability must not fail a call. */
export function recordSchedulerCall(logger: Logger | undefined, call: CallRecord): void {
  try {
    const seen: Observation = { operation: call.operation, outcome: call.outcome, durationMs: call.durationMs };
    if (forwarding) forward(seen);
    else observe(seen);
  } catch {
    /* swallowed, as production does */
  }
  try {
    const log = logger ?? silentLogger;
    const fields = {
      operation: call.operation,
      tenantId: call.tenantId,
      installId: call.installId,
      scheduleId: call.scheduleId,
      outcome: call.outcome,
      durationMs: Math.round(call.durationMs * 1000) / 1000,
      ...(call.error ? { error: call.error } : {}),
    };
    if (call.outcome === 'error') log.error('scheduler host API call', fields);
    else log.info('scheduler host API call', fields);
  } catch {
    /* a broken log sink must not fail the call */
  }
}
