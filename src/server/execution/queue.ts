/**
 * The invocation queue: pg-boss 10 (production's community edition uses ^10; it runs on Node 20),
 * with ONE queue for every scheduled invocation, whatever the number of schedules (production's CE
 * makes a queue — a partition table — per schedule). pg-boss supplies durability, retries with
 * exponential backoff, and expiry of jobs whose worker died; the occurrence identity is ours.
 */
import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { Queryable } from '../db/database.js';
import type { Logger } from '../../shared/logger.js';
import { SCHEDULED_INVOCATION_JOB } from '../scheduler/job-engine.js';

/** Production's job name, used as the one queue's name. */
export const INVOCATION_QUEUE = SCHEDULED_INVOCATION_JOB;

export interface InvocationJobData {
  tenantId: string;
  installId: string;
  scheduleId: string;
  trigger: 'schedule' | 'run-now';
  /** ISO instant of the occurrence (run-now: the request instant). */
  occurrence: string;
  /** run-now: its `jobs` row. */
  runNowJobId?: string;
}

export interface InvocationJob {
  id: string;
  data: InvocationJobData;
  /** 1-based. */
  attempt: number;
  maxAttempts: number;
}

export interface RetryPolicy {
  /** Attempts per occurrence, first included (docs/differences.md#retries: default 3). */
  maxAttempts: number;
  /** Base delay; pg-boss backoff waits ~base·2^(n-1)…base·2^n seconds before attempt n+1. */
  retryDelaySeconds: number;
  /** A job active longer than this is presumed dead (worker crash) and retried. */
  expireInSeconds: number;
}

export interface InvocationQueue {
  /** Inserts through `db` (the caller's transaction), so the enqueue commits or rolls back with it. */
  enqueue(db: Queryable, jobs: { key: string; data: InvocationJobData }[]): Promise<void>;
  fetch(max: number): Promise<InvocationJob[]>;
  complete(id: string, output?: object): Promise<void>;
  fail(id: string, message: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The pg-boss job id of an occurrence: a UUID derived from `${scheduleId}:${occurrenceISO}`, so
 * that inserting the same occurrence twice is a no-op (pg-boss inserts ON CONFLICT DO NOTHING) —
 * a second guard beside the dispatcher's row lock.
 */
export function occurrenceJobId(key: string): string {
  const h = createHash('sha256').update(key).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export interface PgBossQueueOptions {
  databaseUrl: string;
  retry: RetryPolicy;
  /** How often one of the processes expires dead jobs (pg-boss maintenance); default 30 s. */
  maintenanceIntervalSeconds?: number;
  /** pg-boss's own connections; default 4. */
  maxConnections?: number;
  logger?: Logger;
}

const QUEUE_SETUP_LOCK = 7_310_442_002;

async function oneProcessAtATime(databaseUrl: string, fn: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [QUEUE_SETUP_LOCK]);
    await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [QUEUE_SETUP_LOCK]).catch(() => {});
    await client.end().catch(() => {});
  }
}

export async function createPgBossQueue(opts: PgBossQueueOptions): Promise<InvocationQueue> {
  const retryLimit = Math.max(0, opts.retry.maxAttempts - 1);
  const retryDelay = Math.max(1, Math.round(opts.retry.retryDelaySeconds));
  const expireInSeconds = Math.max(1, Math.ceil(opts.retry.expireInSeconds));
  const boss = new PgBoss({
    connectionString: opts.databaseUrl,
    max: opts.maxConnections ?? 4,
    schedule: false, // cron is ours (the dispatcher); pg-boss's evaluates every schedule every tick
    supervise: true,
    migrate: true,
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 30,
    application_name: 'alga-runner-scheduler',
  });
  // An unhandled 'error' event would crash the process; pg-boss reports maintenance failures here.
  boss.on('error', (err: Error) => opts.logger?.warn('job queue error', { error: err.message }));
  const queue = { name: INVOCATION_QUEUE, policy: 'standard' as const, retryLimit, retryDelay, retryBackoff: true, expireInSeconds };
  // Processes starting together on a fresh database deadlock inside pg-boss's schema install and
  // queue creation: one at a time, across processes, under a session advisory lock.
  await oneProcessAtATime(opts.databaseUrl, async () => {
    await boss.start();
    await boss.createQueue(INVOCATION_QUEUE, queue);
    if ((await boss.getQueue(INVOCATION_QUEUE))?.expireInSeconds !== expireInSeconds) await boss.updateQueue(INVOCATION_QUEUE, queue);
  });

  return {
    async enqueue(db, jobs) {
      if (jobs.length === 0) return;
      await boss.insert(
        jobs.map((j) => ({
          id: occurrenceJobId(j.key),
          name: INVOCATION_QUEUE,
          data: j.data,
          singletonKey: j.key,
          retryLimit,
          retryDelay,
          retryBackoff: true,
          expireInSeconds,
        })),
        { db: { executeSql: (text: string, values: unknown[]) => db.query(text, values) } },
      );
    },
    async fetch(max) {
      if (max <= 0) return [];
      const jobs = await boss.fetch<InvocationJobData>(INVOCATION_QUEUE, { batchSize: max, includeMetadata: true, priority: false });
      return (jobs ?? []).map((j) => ({ id: j.id, data: j.data, attempt: j.retryCount + 1, maxAttempts: j.retryLimit + 1 }));
    },
    async complete(id, output) {
      await boss.complete(INVOCATION_QUEUE, id, output);
    },
    async fail(id, message) {
      await boss.fail(INVOCATION_QUEUE, id, { message });
    },
    async stop() {
      await boss.stop({ graceful: false, close: true, wait: true });
    },
  };
}
