/**
 * One attempt of a scheduled (or run-now) invocation: production's handler algorithm
 * (docs/production-contract.md#handler, steps 1–12) with our fixes (docs/differences.md): an exact
 * no-overlap lock (#exact-no-overlap), identifying headers and an idempotency key stable across
 * retries (#identifiable-calls), run-now that runs (#run-now-runs), and every attempt recorded in
 * the run history (#retries).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { Deadline, MAX_TIMER_MS } from '../../shared/deadline.js';
import type { ExecuteClient, ExecuteResponseBody } from '../../shared/execute-envelope.js';
import type { Logger } from '../../shared/logger.js';
import { buildExecuteCall } from '../execute-request.js';
import { envelopeFromRow } from '../secrets/install-secrets.js';
import { resolveInstallProviders, type InstallRuntime } from '../registry/registry.js';
import type { Clock } from './clock.js';
import type { InvocationJob } from './queue.js';
import * as store from './store.js';

/** Production's strings (docs/production-contract.md#handler), verbatim. */
export const INVOCATION_ERRORS = {
  missingData: 'Missing required job data (tenantId, installId, scheduleId)',
  endpointMissing: 'Schedule endpoint not found; disabling schedule',
  installConfigMissing: 'Install config not found',
  tenantMismatch: 'Tenant mismatch for install',
  contentHashMissing: 'Install content hash missing',
  registryMissing: 'Install registry_id missing',
  versionMismatch: 'Schedule endpoint does not belong to installed version',
  tooLarge: (n: number, max: number) => `Runner response too large (${n} bytes; max ${max})`,
  empty: (status: number) => `Runner returned empty body (http ${status})`,
  nonJson: (status: number) => `Runner returned non-JSON response (http ${status})`,
  status: (status: unknown) => `Runner returned status ${status}`,
  /** Production's is its fetch's abort ("This operation was aborted"); ours adds the budget. */
  timeout: (ms: number) => `This operation was aborted (timeout after ${ms} ms)`,
} as const;

/** Production's log lines, prefixed `[extension-scheduled-invocation]`. */
export const SKIP_REASONS = {
  overlap: 'overlap prevented; skipping',
  notFound: 'schedule not found; skipping',
  disabled: 'schedule disabled; skipping',
  installDisabled: 'install disabled; skipping',
  /** Ours: a retry of a job whose success is recorded (its completion never reached the queue). */
  alreadySucceeded: 'already ran successfully; skipping',
  /** Ours: a retry whose job's earlier attempt still holds the run lock (stalled past its expiry). */
  earlierAttemptRunning: 'an earlier attempt of this job is still running; back to the queue',
} as const;

export const LAST_ERROR_MAX_CHARS = 4000;
const RESPONSE_EXCERPT_CHARS = 2000;

export type InvocationOutcome =
  | { status: 'success'; httpStatus: number | null }
  | { status: 'skipped'; reason: string }
  | { status: 'error'; error: string; retry: boolean };

export interface InvokeDeps {
  /** Reads and the history/last-run writes (each committed at once, so a crash leaves a trace). */
  pool: pg.Pool;
  /** Connections that hold a run's lock for its whole duration; separate so that a guest's own
   * scheduler calls (on `pool`) can never starve behind the locks. */
  lockPool: pg.Pool;
  runner: ExecuteClient;
  clock: Clock;
  logger: Logger;
  /** EXT_GATEWAY_TIMEOUT_MS (production default 30 000). */
  timeoutMs: number;
  /** EXT_RUNNER_MAX_RESPONSE_BYTES (default 262 144; ≤ 0 disables the check). */
  maxResponseBytes: number;
  /** Newest runs kept per schedule (enforced on write). */
  keepRunsPerSchedule: number;
}

/** The idempotency key of an occurrence: the same for every retry of it (docs/differences.md#identifiable-calls). */
export function idempotencyKeyFor(data: InvocationJob['data'], jobId: string): string {
  return data.trigger === 'run-now' ? `runnow:${data.scheduleId}:${data.runNowJobId ?? jobId}` : `sched:${data.scheduleId}:${data.occurrence}`;
}

/** The install's config as the execute request carries it (string values; others as JSON). */
function stringConfig(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

function trimmed(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** Production's response evaluation (docs/production-contract.md#response-evaluation) over the envelope the ExecuteClient returns. */
export function evaluateResponse(env: ExecuteResponseBody | null | undefined, maxBytes: number): { error: string | null; httpStatus: number | null } {
  const transportStatus = 200; // /v1/execute answers 200 for every outcome
  if (env === null || env === undefined) return { error: INVOCATION_ERRORS.empty(transportStatus), httpStatus: null };
  if (typeof env !== 'object') return { error: INVOCATION_ERRORS.nonJson(transportStatus), httpStatus: null };
  const text = JSON.stringify(env);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (Number.isFinite(maxBytes) && maxBytes > 0 && bytes > maxBytes) return { error: INVOCATION_ERRORS.tooLarge(bytes, maxBytes), httpStatus: null };
  const outStatus = (env as { status?: unknown }).status ?? transportStatus;
  const numeric = Number(outStatus);
  if (numeric >= 400) return { error: INVOCATION_ERRORS.status(outStatus), httpStatus: numeric };
  return { error: null, httpStatus: Number.isFinite(numeric) ? numeric : null };
}

function excerpt(env: ExecuteResponseBody | null | undefined): string | null {
  if (!env?.body_b64) return env?.error ? env.error.slice(0, RESPONSE_EXCERPT_CHARS) : null;
  try {
    return Buffer.from(env.body_b64, 'base64').toString('utf8').slice(0, RESPONSE_EXCERPT_CHARS);
  } catch {
    return null;
  }
}

/**
 * The execute call under the attempt's deadline: the runner gets its signal and stops the guest at
 * it (one outcome, the runner's); an answer that failed once the deadline passed is the timeout.
 * The wait itself ends at the deadline's latest end, for a runner that does not answer at all.
 */
async function executeWithin(runner: ExecuteClient, call: ReturnType<typeof buildExecuteCall>, deadline: Deadline): Promise<ExecuteResponseBody> {
  const timeout = () => new Error(INVOCATION_ERRORS.timeout(deadline.budgetMs));
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    const wait = deadline.latestRemainingMs();
    if (Number.isFinite(wait)) timer = setTimeout(() => reject(timeout()), Math.min(wait, MAX_TIMER_MS));
  });
  let env: ExecuteResponseBody;
  try {
    env = await Promise.race([runner.execute(call.headers, call.body, deadline.signal), unanswered]);
  } catch (err) {
    throw deadline.expired ? timeout() : err;
  } finally {
    clearTimeout(timer);
  }
  if (deadline.expired && env.error !== null) throw timeout();
  return env;
}

/**
 * Runs one attempt. Never throws for a business outcome: the caller maps the outcome to the queue
 * (success/skipped → complete; error → fail, which pg-boss retries with backoff while attempts remain).
 */
export async function runInvocation(deps: InvokeDeps, job: InvocationJob): Promise<InvocationOutcome> {
  const { pool, clock } = deps;
  const data = job.data ?? ({} as InvocationJob['data']);
  const tenantId = trimmed(data.tenantId);
  const installId = trimmed(data.installId);
  const scheduleId = trimmed(data.scheduleId);
  const log = deps.logger.child({ component: 'extension-scheduled-invocation', tenantId, installId, scheduleId });
  if (!tenantId || !installId || !scheduleId) {
    log.error(`[extension-scheduled-invocation] ${INVOCATION_ERRORS.missingData}`);
    return { status: 'error', error: INVOCATION_ERRORS.missingData, retry: false };
  }
  const trigger = data.trigger === 'run-now' ? 'run-now' : 'schedule';
  const occurrenceAt = new Date(data.occurrence);
  const runBase = {
    scheduleId,
    tenantId,
    installId,
    occurrenceAt: Number.isFinite(occurrenceAt.getTime()) ? occurrenceAt : clock.now(),
    trigger,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    jobId: job.id,
  } as const;
  const skip = async (reason: string, record: boolean): Promise<InvocationOutcome> => {
    log.info(`[extension-scheduled-invocation] ${reason}`, { trigger, occurrence: data.occurrence });
    if (record) await store.insertRun(pool, { ...runBase, requestId: null, startedAt: clock.now(), status: 'skipped', error: reason });
    return { status: 'skipped', reason };
  };

  // Step 2, exact: a row lock on the schedule's own lock row, held by this transaction for the run.
  const lockClient = await deps.lockPool.connect();
  let lockBroken: Error | undefined;
  // A checked-out client whose connection drops (Postgres restarting) while the endpoint runs emits
  // 'error' with no query to fail; unheard, that event ended the whole process.
  const onLost = (e: Error) => void (lockBroken ??= e);
  lockClient.on('error', onLost);
  try {
    await lockClient.query('BEGIN');
    let locked = await store.tryRunLock(lockClient, scheduleId, job.id);
    if (!locked && !(await store.runLockRowExists(lockClient, scheduleId))) {
      await store.ensureRunLockRow(pool, scheduleId); // a schedule that never ran nor was scheduled by the engine
      locked = await store.tryRunLock(lockClient, scheduleId, job.id);
    }
    // Completing this job as an overlap would lose the occurrence if that earlier attempt then
    // fails (its report finds the job done): failed back instead, retried while attempts remain.
    if (!locked && (await store.jobAttemptHoldsLock(lockClient, job.id))) {
      await skip(SKIP_REASONS.earlierAttemptRunning, true);
      return { status: 'error', error: SKIP_REASONS.earlierAttemptRunning, retry: true };
    }
    if (!locked) return await skip(SKIP_REASONS.overlap, true);
    // Read under the lock: the attempt that succeeded committed its record before releasing it.
    if (await store.jobSucceeded(lockClient, scheduleId, job.id)) return await skip(SKIP_REASONS.alreadySucceeded, true);
    // Holding the lock: a `running` row of this schedule belongs to a worker that died mid-run.
    const interrupted = await store.closeInterruptedRuns(lockClient, scheduleId, clock.now());
    if (interrupted > 0) log.warn('closed runs interrupted by a stopped worker', { runs: interrupted });

    const row = await store.loadRunContext(lockClient, scheduleId, installId, tenantId);
    if (!row) return await skip(SKIP_REASONS.notFound, false);
    if (!row.enabled && trigger === 'schedule') return await skip(SKIP_REASONS.disabled, true);
    if (row.i_id && !row.i_active) return await skip(SKIP_REASONS.installDisabled, true);

    const requestId = randomUUID();
    const startedAt = clock.now();
    const t0 = performance.now();
    // The attempt's one deadline, from the instant its run starts (its recorded duration too): the
    // runner, the guest and its host calls stop at it (docs/scheduling.md#deadline).
    const deadline = new Deadline(deps.timeoutMs);
    // Committed before the call, so that a worker dying mid-run leaves a trace the next attempt closes.
    const runId = await store.insertRun(pool, { ...runBase, requestId, startedAt, status: 'running' });
    let outcome: InvocationOutcome;
    let httpStatus: number | null = null;
    let responseExcerpt: string | null = null;
    try {
      const r = await callEndpoint(deps, row, { scheduleId, tenantId, trigger, occurrenceAt: runBase.occurrenceAt, requestId, data, jobId: job.id, deadline });
      outcome = r.outcome;
      httpStatus = r.httpStatus;
      responseExcerpt = r.excerpt;
    } catch (err) {
      outcome = { status: 'error', error: (err as Error)?.message ?? String(err), retry: true };
    } finally {
      deadline.dispose();
    }
    const error = outcome.status === 'error' ? outcome.error.slice(0, LAST_ERROR_MAX_CHARS) : null;
    const status = outcome.status === 'error' ? 'error' : 'success';
    // A run-now's tracker row ends with its last attempt (a success, the last try, or no retry).
    const lastAttempt = status === 'success' || job.attempt >= job.maxAttempts || (outcome.status === 'error' && !outcome.retry);
    const end: RunEnd = { runId, durationMs: performance.now() - t0, scheduleId, tenantId, status, httpStatus, error, responseExcerpt, runNowJobId: lastAttempt ? data.runNowJobId : undefined };
    const finish = (q: pg.PoolClient | pg.Pool) => recordRunEnd(q, deps, end);
    // Step 11: written with the lock's commit (one commit per run); best-effort, as production.
    try {
      await lockClient.query('SAVEPOINT finish');
      await finish(lockClient);
    } catch (err) {
      await lockClient.query('ROLLBACK TO SAVEPOINT finish').catch(() => {});
      try {
        await finish(pool);
      } catch {
        log.warn('[extension-scheduled-invocation] failed to update schedule last_run fields', { error: (err as Error).message });
      }
    }
    if (outcome.status === 'error') log.warn('scheduled invocation failed', { trigger, attempt: job.attempt, of: job.maxAttempts, error });
    else log.debug('scheduled invocation done', { trigger, attempt: job.attempt, httpStatus });
    return outcome;
  } catch (err) {
    lockBroken = err as Error;
    throw err;
  } finally {
    await lockClient.query('COMMIT').catch((e: Error) => (lockBroken ??= e));
    lockClient.release(lockBroken);
    lockClient.off('error', onLost);
  }
}

interface RunEnd {
  runId: string;
  durationMs: number;
  scheduleId: string;
  tenantId: string;
  status: 'success' | 'error';
  httpStatus: number | null;
  error: string | null;
  responseExcerpt: string | null;
  /** The run-now tracker row to close, when this was its last attempt. */
  runNowJobId?: string;
}

/** Step 11: the attempt's end in the history, the schedule's last run, retention, and a run-now's tracker. */
async function recordRunEnd(q: pg.PoolClient | pg.Pool, deps: InvokeDeps, e: RunEnd): Promise<void> {
  const at = deps.clock.now();
  await store.finishRun(q, e.runId, { finishedAt: at, durationMs: e.durationMs, status: e.status, httpStatus: e.httpStatus, error: e.error, responseExcerpt: e.responseExcerpt });
  await store.writeLastRun(q, e.scheduleId, e.tenantId, at, e.status, e.error);
  await store.pruneScheduleRuns(q, e.scheduleId, deps.keepRunsPerSchedule);
  if (e.runNowJobId) await store.finishRunNowJob(q, e.runNowJobId, e.status === 'success' ? 'completed' : 'failed');
}

/** What one attempt's call needs of the invocation. */
interface AttemptContext {
  scheduleId: string;
  tenantId: string;
  trigger: 'schedule' | 'run-now';
  occurrenceAt: Date;
  requestId: string;
  data: InvocationJob['data'];
  jobId: string;
  deadline: Deadline;
}

interface AttemptResult {
  outcome: InvocationOutcome;
  httpStatus: number | null;
  excerpt: string | null;
}

/**
 * Steps 5–10 of one attempt, holding the run lock: the run context checked in production's order
 * (a missing endpoint disables the schedule), then the execute call and its evaluation.
 */
async function callEndpoint(deps: InvokeDeps, r: store.RunContextRow, a: AttemptContext): Promise<AttemptResult> {
  const { scheduleId, tenantId, trigger, requestId, data } = a;
  const fail = (error: string, retry = true) => ({ outcome: { status: 'error', error, retry } as InvocationOutcome, httpStatus: null, excerpt: null });
  if (!r.e_id) {
    // Production disables the schedule and leaves its runner schedule; we also stop dispatching it.
    await store.disableSchedule(deps.pool, scheduleId, tenantId);
    return fail(INVOCATION_ERRORS.endpointMissing, false);
  }
  if (!r.i_id) return fail(INVOCATION_ERRORS.installConfigMissing);
  if (r.i_tenant_id !== tenantId) return fail(INVOCATION_ERRORS.tenantMismatch);
  if (!r.i_registry_id) return fail(INVOCATION_ERRORS.registryMissing);
  if (!r.content_hash) return fail(INVOCATION_ERRORS.contentHashMissing);
  if (r.e_version_id !== r.i_version_id) return fail(INVOCATION_ERRORS.versionMismatch);
  const install: InstallRuntime = {
    installId: r.i_id,
    tenantId: r.i_tenant_id,
    registryId: r.i_registry_id,
    versionId: r.i_version_id!,
    extensionName: r.extension_name ?? '',
    contentHash: r.content_hash,
    providers: resolveInstallProviders(r),
    config: stringConfig(r.i_config),
    enabled: r.i_active === true,
    endpoints: [],
    secretEnvelope: envelopeFromRow(r.secret_envelope),
  };

  const method = r.e_method!.toUpperCase();
  const payload = r.payload_json;
  const call = buildExecuteCall(install, {
    method,
    path: r.e_path!,
    query: {},
    headers: {
      'x-alga-trigger': trigger,
      'x-alga-schedule-id': scheduleId,
      'x-alga-scheduled-time': a.occurrenceAt.toISOString(),
    },
    // Step 9: no body for GET; otherwise the payload's JSON, omitted when null.
    body: method !== 'GET' && payload !== null && payload !== undefined ? new TextEncoder().encode(JSON.stringify(payload)) : undefined,
    requestId,
    idempotencyKey: idempotencyKeyFor(data, a.jobId),
    timeoutMs: deps.timeoutMs,
    context: { trigger: 'schedule', schedule_id: scheduleId },
  });
  let env: ExecuteResponseBody;
  try {
    env = await executeWithin(deps.runner, call, a.deadline);
  } catch (err) {
    return fail((err as Error)?.message ?? String(err));
  }
  const evaluated = evaluateResponse(env, deps.maxResponseBytes);
  return {
    outcome: evaluated.error ? { status: 'error', error: evaluated.error, retry: true } : { status: 'success', httpStatus: evaluated.httpStatus },
    httpStatus: evaluated.httpStatus,
    excerpt: excerpt(env),
  };
}
