/**
 * The invocation worker: fetches jobs from the one queue up to `concurrency` at a time, runs each,
 * and reports each outcome to pg-boss on its own (pg-boss's `work()` settles a batch as a whole).
 */
import type { Logger } from '../../shared/logger.js';
import type { InvocationOutcome } from './invoke.js';
import type { InvocationJob, InvocationQueue } from './queue.js';

export interface InvocationWorker {
  /** Fetch now instead of at the next poll (the local dispatcher calls it after enqueuing). */
  notify(): void;
  /** Resolves when nothing is running and the last fetch found nothing. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface InvocationWorkerOptions {
  queue: InvocationQueue;
  run: (job: InvocationJob) => Promise<InvocationOutcome>;
  concurrency: number;
  pollMs: number;
  logger: Logger;
  /** How long stop() waits for running invocations (they are retried elsewhere if cut). */
  stopGraceMs?: number;
}

export function startInvocationWorker(o: InvocationWorkerOptions): InvocationWorker {
  const active = new Set<Promise<void>>();
  // While the queue is busy, refill in batches rather than one fetch per finished run.
  const refillAt = Math.max(1, Math.ceil(o.concurrency / 2));
  let queueBusy = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  let emptyFetch = false;
  const idleWaiters: (() => void)[] = [];
  const nudge = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const checkIdle = () => {
    if (active.size === 0 && emptyFetch) for (const r of idleWaiters.splice(0)) r();
  };

  async function settle(job: InvocationJob): Promise<void> {
    let outcome: InvocationOutcome;
    try {
      outcome = await o.run(job);
    } catch (err) {
      outcome = { status: 'error', error: (err as Error)?.message ?? String(err), retry: true };
      o.logger.error('scheduled invocation crashed', { jobId: job.id, error: (outcome as { error: string }).error });
    }
    try {
      if (outcome.status !== 'error') await o.queue.complete(job.id, { status: outcome.status });
      else if (outcome.retry) await o.queue.fail(job.id, outcome.error); // pg-boss retries while attempts remain
      else await o.queue.complete(job.id, { status: 'error', error: outcome.error, final: true });
    } catch (err) {
      // The job stays active and expires into a retry; the history already holds this attempt.
      o.logger.warn('could not report a job outcome to the queue', { jobId: job.id, error: (err as Error).message });
    }
  }

  const loop = (async () => {
    while (!stopped) {
      const free = o.concurrency - active.size;
      let fetched = 0;
      if (free > 0) {
        try {
          const jobs = await o.queue.fetch(free);
          fetched = jobs.length;
          emptyFetch = fetched === 0;
          queueBusy = fetched === free;
          for (const job of jobs) {
            const p: Promise<void> = settle(job).finally(() => {
              active.delete(p);
              if (!queueBusy || o.concurrency - active.size >= refillAt || active.size === 0) nudge();
              checkIdle();
            });
            active.add(p);
          }
        } catch (err) {
          if (!stopped) o.logger.warn('job queue fetch failed', { error: (err as Error).message });
        }
        checkIdle();
      }
      if (stopped) break;
      if (fetched > 0 && fetched === free) continue; // more may be waiting
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.pollMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  })();

  return {
    notify: nudge,
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        emptyFetch = false;
        nudge();
      });
    },
    async stop() {
      stopped = true;
      nudge();
      await loop;
      const grace = new Promise((r) => setTimeout(r, o.stopGraceMs ?? 10_000).unref());
      await Promise.race([Promise.all(active), grace]);
    },
  };
}
