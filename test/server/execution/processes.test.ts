/**
 * Several processes on one database: 1 000 due schedules fire exactly once across two dispatcher
 * processes; a process killed mid-run leaves a run that is retried and recorded, never lost.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { INTERRUPTED_RUN_ERROR } from '../../../src/server/execution/store.js';
import { startScheduleExecution } from '../../../src/server/execution/index.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';
import { fakeRunner, sleep } from './support.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.js');

export function spawnChild(url: string, env: Record<string, string> = {}): Promise<ChildProcess & { output: string[] }> {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, DATABASE_URL: url, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }) as ChildProcess & { output: string[] };
  child.output = [];
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        child.output.push(line);
        if (line === 'ready') resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before ready`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Schedules (and their dispatch rows) written in bulk, all due at `dueAt`. */
export async function insertDueSchedules(pool: pg.Pool, count: number, dueAt: Date, cron = '*/5 * * * *'): Promise<{ installId: string }> {
  const inst = await insertInstall(pool);
  await pool.query(`INSERT INTO extension_bundle (version_id, content_hash) VALUES ($1, $2)`, [inst.versionId, `sha256:${'ab'.repeat(32)}`]);
  await pool.query(
    `WITH s AS (
       INSERT INTO tenant_extension_schedule (install_id, tenant_id, endpoint_id, cron, timezone, enabled)
       SELECT $1, $2, (SELECT id FROM extension_api_endpoint WHERE version_id = $3 AND method = 'POST' AND path = '/sync'), $5, 'UTC', true
         FROM generate_series(1, $4)
       RETURNING id, install_id, tenant_id, cron, timezone)
     INSERT INTO extension_schedule_dispatch (schedule_id, tenant_id, install_id, cron, timezone, next_run_at)
     SELECT id, tenant_id, install_id, cron, timezone, $6 FROM s`,
    [inst.installId, inst.tenantId, inst.versionId, count, cron, dueAt],
  );
  return { installId: inst.installId };
}

/** A yearly cron and its latest occurrence: the dispatchers fire exactly that occurrence however late
 * they start (with `*\/5` and "now - 1 s", a start past the next 5-minute mark fired that mark instead,
 * and a loaded machine saw "0 of 1000 ran"). */
const YEARLY = '0 0 1 1 *';
const thisNewYear = () => new Date(Date.UTC(new Date().getUTCFullYear(), 0, 1));

describe('processes', () => {
  test('two dispatcher processes, 1 000 due schedules: each occurrence fires exactly once', { timeout: 600_000 }, async (t) => {
    const db = await createTestDatabase();
    const children: ChildProcess[] = [];
    try {
      const dueAt = thisNewYear();
      await insertDueSchedules(db.pool, 1000, dueAt, YEARLY);
      children.push(...(await Promise.all([spawnChild(db.url), spawnChild(db.url)])));
      // Waits on the runs, however long a loaded machine takes (the test's timeout is the bound).
      for (;;) {
        const n = (await db.pool.query(`SELECT count(*)::int AS n FROM extension_schedule_run WHERE status = 'success' AND occurrence_at = $1`, [dueAt])).rows[0].n;
        if (n >= 1000) break;
        if (t.signal.aborted) throw new Error(`only ${n} of 1000 ran`);
        await sleep(100);
      }
      // Stopped processes write nothing more: any duplicate is in the table now.
      for (const c of children) await stopChild(c);
      const dup = await db.pool.query(
        `SELECT schedule_id, occurrence_at, count(*) FROM extension_schedule_run GROUP BY 1, 2 HAVING count(*) > 1`,
      );
      assert.equal(dup.rowCount, 0, `duplicate runs: ${JSON.stringify(dup.rows.slice(0, 3))}`);
      const perSchedule = await db.pool.query(`SELECT count(DISTINCT schedule_id)::int AS n FROM extension_schedule_run WHERE occurrence_at = $1`, [dueAt]);
      assert.equal(perSchedule.rows[0].n, 1000);
      // Every run there is, of any occurrence or attempt: a retry of a job that already ran (an
      // expiry while it ran, a lost completion) would be a row here.
      const all = await db.pool.query(`SELECT count(*)::int AS n FROM extension_schedule_run`);
      assert.equal(all.rows[0].n, 1000, 'runs other than the 1 000 occurrences');
      const jobs = await db.pool.query(`SELECT singleton_key, count(*) FROM pgboss.job WHERE name = 'extension-scheduled-invocation' GROUP BY 1 HAVING count(*) > 1`);
      assert.equal(jobs.rowCount, 0, 'an occurrence was enqueued twice');
      const ran = children.map((c) => Number((c as ChildProcess & { output: string[] }).output.find((l) => l.startsWith('ran '))?.slice(4)));
      assert.equal(ran.reduce((a, b) => a + b, 0), 1000, `runs per process ${ran}`);
    } finally {
      for (const c of children) await stopChild(c);
      await db.drop();
    }
  });

  test('a process killed mid-run: the attempt is recorded as interrupted and the occurrence is retried elsewhere', { timeout: 600_000 }, async (t) => {
    const db = await createTestDatabase();
    let child: ChildProcess | undefined;
    let exec: Awaited<ReturnType<typeof startScheduleExecution>> | undefined;
    try {
      const dueAt = new Date(Date.now() - 1000);
      await insertDueSchedules(db.pool, 1, dueAt, '0 0 1 1 *');
      // The child's call outlasts its 10 s deadline and that deadline's latest end (22 s), so the run
      // is still running whenever the test sees it (it was 2.5 s, which a loaded machine could let
      // finish first); the job expires 1 s after that latest end, and the occurrence is retried here.
      child = await spawnChild(db.url, { SLOW_MS: '60000', TIMEOUT_MS: '10000', EXPIRE_GRACE: '1' });
      for (;;) {
        if ((await db.pool.query(`SELECT 1 FROM extension_schedule_run WHERE status = 'running'`)).rowCount) break;
        if (t.signal.aborted) throw new Error('the child never started the run');
        await sleep(25);
      }
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      const runner = fakeRunner();
      exec = await startScheduleExecution({
        databaseUrl: db.url,
        pool: db.pool,
        runner,
        logger: silentLogger,
        options: { dispatch: false, pollMs: 50, timeoutMs: 3000, expireGraceSeconds: 1, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1 },
      });
      let runs: any[] = [];
      while (!t.signal.aborted) {
        runs = (await db.pool.query(`SELECT attempt, status, error, occurrence_at FROM extension_schedule_run ORDER BY attempt`)).rows;
        if (runs.some((r) => r.status === 'success')) break;
        await sleep(100);
      }
      assert.deepEqual(runs.map((r) => [r.attempt, r.status, r.error]), [
        [1, 'error', INTERRUPTED_RUN_ERROR],
        [2, 'success', null],
      ]);
      assert.ok(runs.every((r) => r.occurrence_at.getTime() === dueAt.getTime()));
      assert.equal(runner.calls.length, 1);
      const s = (await db.pool.query(`SELECT last_run_status FROM tenant_extension_schedule`)).rows[0];
      assert.equal(s.last_run_status, 'success');
    } finally {
      if (child) await stopChild(child);
      await exec?.stop();
      await db.drop();
    }
  });
});
