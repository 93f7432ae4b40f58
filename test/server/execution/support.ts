/** Shared set-up for the execution tests: a test database, a fake runner, the execution engine. */
import type pg from 'pg';
import { createLogger, silentLogger, type Logger } from '../../../src/shared/logger.js';
import type { ExecuteClient, ExecuteHeaders, ExecuteRequestBody, ExecuteResponseBody } from '../../../src/shared/execute-envelope.js';
import { createManualClock, startScheduleExecution, type ExecutionOptions, type ManualClock, type ScheduleExecution } from '../../../src/server/execution/index.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createSchedulerService, type InstallContext, type SchedulerService } from '../../../src/server/scheduler/service.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InsertInstallOptions } from '../../support/fixtures.js';

export interface ExecutedCall {
  headers: ExecuteHeaders;
  body: ExecuteRequestBody;
  at: number;
}

export type Behaviour = (call: ExecutedCall, signal?: AbortSignal) => Promise<ExecuteResponseBody> | ExecuteResponseBody;

export const ok = (json: unknown = { ok: true }): ExecuteResponseBody => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body_b64: Buffer.from(JSON.stringify(json)).toString('base64'),
  error: null,
});

/** An ExecuteClient whose answer the test chooses; it records every call. */
export function fakeRunner(behaviour: Behaviour = () => ok()): ExecuteClient & { calls: ExecutedCall[]; behaviour: Behaviour } {
  const r = {
    calls: [] as ExecutedCall[],
    behaviour,
    async execute(headers: ExecuteHeaders, body: ExecuteRequestBody, signal?: AbortSignal) {
      const call = { headers, body, at: Date.now() };
      r.calls.push(call);
      return r.behaviour(call, signal);
    },
  };
  return r;
}

/** A logger that keeps its lines, for "a log line says …" assertions. */
export function recordingLogger(): Logger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const base = createLogger({
    level: 'debug',
    write: (line) => {
      const j = JSON.parse(line);
      lines.push({ level: j.level, msg: j.msg, fields: j });
    },
  });
  return Object.assign(base, { lines });
}

export interface Harness {
  db: TestDatabase;
  clock: ManualClock;
  runner: ReturnType<typeof fakeRunner>;
  service: SchedulerService;
  exec: ScheduleExecution;
  ctx: InstallContext;
  logger: ReturnType<typeof recordingLogger>;
  /** Creates a schedule through the scheduler service (so the job engine writes its dispatch row). */
  create(input: { endpoint?: string; cron: string; timezone?: string; enabled?: boolean; payload?: unknown; name?: string }, ctx?: InstallContext): Promise<string>;
  /** Another install (own tenant) on the same database. */
  install(o?: InsertInstallOptions): Promise<InstallContext>;
  /** Polls until fn returns truthy: waits on state, however slow a loaded machine is; timeoutMs
   * (default 2 min) only turns a condition that never holds into a failure instead of a hang. */
  until<T>(fn: () => Promise<T>, timeoutMs?: number): Promise<NonNullable<T>>;
  runs(scheduleId: string): Promise<any[]>;
  stop(): Promise<void>;
}

async function addBundle(pool: pg.Pool, versionId: string): Promise<void> {
  await pool.query(`INSERT INTO extension_bundle (version_id, content_hash) VALUES ($1, $2)`, [versionId, `sha256:${'ab'.repeat(32)}`]);
}

export async function startHarness(o: { start?: string; behaviour?: Behaviour; options?: ExecutionOptions; db?: TestDatabase } = {}): Promise<Harness> {
  const db = o.db ?? (await createTestDatabase());
  const clock = createManualClock(o.start ?? '2026-01-05T10:00:30Z');
  const runner = fakeRunner(o.behaviour);
  const logger = recordingLogger();
  const service = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine({ clock }), now: () => clock.now(), logger: silentLogger });
  const install = async (io: InsertInstallOptions = {}): Promise<InstallContext> => {
    const inst = await insertInstall(db.pool, io);
    await addBundle(db.pool, inst.versionId);
    return inst;
  };
  const ctx = await install();
  const exec = await startScheduleExecution({
    databaseUrl: db.url,
    pool: db.pool,
    runner,
    logger,
    options: { clock, dispatch: false, pollMs: 50, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1, ...o.options },
  });
  const h: Harness = {
    db,
    clock,
    runner,
    service,
    exec,
    ctx,
    logger,
    install,
    async create(input, c = ctx) {
      const r = await service.create(c, { endpoint: input.endpoint ?? 'POST /sync', ...input });
      if (!r.success) throw new Error(`create failed: ${r.error}`);
      return r.scheduleId!;
    },
    async until(fn, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v) return v as NonNullable<typeof v>;
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async runs(scheduleId) {
      return (await db.pool.query(`SELECT * FROM extension_schedule_run WHERE schedule_id = $1 ORDER BY started_at, attempt`, [scheduleId])).rows;
    },
    async stop() {
      await exec.stop();
      if (!o.db) await db.drop();
    },
  };
  return h;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
