/**
 * Schedule execution, assembled: the dispatcher (due occurrences → jobs), the worker (jobs →
 * /v1/execute through the platform's ExecuteClient), the history pruner, and the admin operations.
 * Every process that shares the database may run all of them; correctness does not depend on how
 * many do (see docs/scheduling.md).
 * @example
 *   const exec = await startScheduleExecution({ databaseUrl, pool, runner, logger });
 *   await exec.admin.runNow(scheduleId);
 *   await exec.stop();
 */
import type pg from 'pg';
import { createPool } from '../db/database.js';
import { latestEndMs } from '../../shared/deadline.js';
import type { ExecuteClient } from '../../shared/execute-envelope.js';
import type { Logger } from '../../shared/logger.js';
import { createScheduleAdmin, type ScheduleAdmin } from './admin.js';
import { systemClock, type Clock } from './clock.js';
import { createDispatcher, type TickResult } from './occurrence-dispatcher.js';
import { runInvocation } from './invoke.js';
import { createPgBossQueue, type InvocationQueue } from './queue.js';
import * as store from './store.js';
import { startInvocationWorker, type InvocationWorker } from './invocation-worker.js';

export { createManualClock, systemClock, type Clock, type ManualClock } from './clock.js';
export type { ScheduleAdmin } from './admin.js';

export interface ExecutionOptions {
  /** Default: on when the platform serves HTTP (`dev`, `serve`), off for `exec`; `ALGA_SCHEDULE_EXECUTION=off` turns it off. */
  enabled?: boolean;
  clock?: Clock;
  /** Dispatcher period; default 1000 ms. */
  tickMs?: number;
  /** Run the dispatcher loop (default true); tick() works either way. */
  dispatch?: boolean;
  /** Run the worker (default true). */
  work?: boolean;
  /** Invocations in parallel in this process; default 8. */
  concurrency?: number;
  /** Worker poll period when idle; default 500 ms (the local dispatcher also wakes it). */
  pollMs?: number;
  /** Each attempt's budget (its one deadline); default 30 000 ms (the platform passes EXT_GATEWAY_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Default 262 144 (the platform passes EXT_RUNNER_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** Attempts per occurrence (first included); default 3. */
  maxAttempts?: number;
  /** Backoff base; default 5 s (attempt 2 after 5–10 s, attempt 3 after 10–20 s). */
  retryDelaySeconds?: number;
  /** A job active this long past its attempt's latest end (budget + load allowance + answer margin,
   * shared/deadline.ts) is presumed dead and retried; default 60 s. */
  expireGraceSeconds?: number;
  /** pg-boss maintenance period (expiry of dead jobs); default 30 s. */
  maintenanceIntervalSeconds?: number;
  history?: {
    /** Newest runs kept per schedule; default 100. */
    keepPerSchedule?: number;
    /** Runs older than this are deleted; default 30 days. */
    keepDays?: number;
    /** Default 10 minutes. */
    pruneIntervalMs?: number;
  };
}

export interface ScheduleExecution {
  clock: Clock;
  admin: ScheduleAdmin;
  queue: InvocationQueue;
  /** One dispatcher pass now (tests drive it with a manual clock). */
  tick(): Promise<TickResult>;
  /** Resolves when this process's worker has nothing running and nothing to fetch. */
  idle(): Promise<void>;
  /** History pruning pass now. */
  prune(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartExecutionDeps {
  databaseUrl: string;
  pool: pg.Pool;
  runner: ExecuteClient;
  logger: Logger;
  options?: ExecutionOptions;
}

export async function startScheduleExecution(deps: StartExecutionDeps): Promise<ScheduleExecution> {
  const o = deps.options ?? {};
  const clock = o.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'schedule-execution' });
  const concurrency = Math.max(1, o.concurrency ?? 8);
  const timeoutMs = o.timeoutMs ?? 30_000;
  const maxAttempts = Math.max(1, o.maxAttempts ?? 3);
  const expireGraceSeconds = o.expireGraceSeconds ?? 60;
  // pg-boss's expiry from the same budget: an attempt ends by its deadline's latest end, so a job
  // still active past it (plus the grace) had its worker die (docs/scheduling.md#deadline).
  const expireInSeconds = Math.ceil(latestEndMs(timeoutMs) / 1000) + expireGraceSeconds;
  const keepPerSchedule = o.history?.keepPerSchedule ?? 100;
  const keepDays = o.history?.keepDays ?? 30;
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const c of cleanup.splice(0)) await c().catch(() => {});
  };
  try {
    const queue = await createPgBossQueue({
      databaseUrl: deps.databaseUrl,
      retry: { maxAttempts, retryDelaySeconds: o.retryDelaySeconds ?? 5, expireInSeconds },
      maintenanceIntervalSeconds: o.maintenanceIntervalSeconds,
      logger,
    });
    cleanup.unshift(() => queue.stop());
    // The run locks are held for a whole invocation: their own pool, so they never starve the
    // guest's scheduler calls (which use the platform pool) and vice versa.
    const lockPool = createPool(deps.databaseUrl, concurrency + 2);
    cleanup.unshift(() => lockPool.end());

    let worker: InvocationWorker | undefined;
    const dispatcher = createDispatcher({ pool: deps.pool, queue, clock, logger, onEnqueued: () => worker?.notify() });
    const admin = createScheduleAdmin({ pool: deps.pool, queue, clock, onEnqueued: () => worker?.notify() });
    const adopted = await dispatcher.adopt();
    if (adopted > 0) logger.info('adopted schedules created before schedule execution existed', { schedules: adopted });

    if (o.work !== false) {
      const w = startInvocationWorker({
        queue,
        concurrency,
        pollMs: o.pollMs ?? 500,
        logger,
        stopGraceMs: Math.min(timeoutMs, 10_000),
        run: (job) =>
          runInvocation(
            {
              pool: deps.pool,
              lockPool,
              runner: deps.runner,
              clock,
              logger,
              timeoutMs,
              maxResponseBytes: o.maxResponseBytes ?? 262_144,
              keepRunsPerSchedule: keepPerSchedule,
            },
            job,
          ),
      });
      worker = w;
      cleanup.unshift(() => w.stop());
    }

    async function prune(): Promise<number> {
      const now = clock.now();
      let n = 0;
      n += await store.closeStaleRuns(deps.pool, new Date(now.getTime() - expireInSeconds * 1000 * 2), now);
      n += await store.pruneOldRuns(deps.pool, new Date(now.getTime() - keepDays * 86_400_000), 5000);
      n += await store.pruneOrphans(deps.pool, 5000);
      return n;
    }

    const timers: NodeJS.Timeout[] = [];
    let stopping = false;
    if (o.dispatch !== false) {
      const tickMs = o.tickMs ?? 1000;
      let running: Promise<unknown> | undefined;
      const t = setInterval(() => {
        if (running || stopping) return;
        running = dispatcher
          .tick()
          .catch((err: Error) => logger.warn('dispatch tick failed', { error: err.message }))
          .finally(() => (running = undefined));
      }, tickMs);
      timers.push(t);
      cleanup.unshift(async () => {
        clearInterval(t);
        await running;
      });
    }
    const pt = setInterval(() => void prune().catch((err: Error) => logger.warn('run history prune failed', { error: err.message })), o.history?.pruneIntervalMs ?? 600_000);
    pt.unref();
    cleanup.unshift(async () => clearInterval(pt));

    return {
      clock,
      admin,
      queue,
      tick: () => dispatcher.tick(),
      idle: () => worker?.idle() ?? Promise.resolve(),
      prune,
      async stop() {
        stopping = true;
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
