/**
 * Reliability, part 3: schedule runs under faults, outside the default test run. Embedded
 * PostgreSQL, two platform processes running schedule execution only (dispatcher + worker, an
 * ExecuteClient that answers after SLOW_MS), schedules with a yearly cron made due at their latest
 * occurrence. Each phase counts runs per occurrence in extension_schedule_run and exits 1 unless
 * every occurrence has exactly one successful run (none lost, none duplicated).
 *  --phase kill: one process is killed (SIGKILL) while it has runs in flight; they are retried by
 *    the other.
 *  --phase postgres: schedules keep falling due (a batch every 200 ms) while Postgres is stopped
 *    and started again on the same files and port.
 *   npm run build && node dist/bench/schedule-faults.js [--phase kill|postgres|all] [--schedules 200]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPool, migrate } from '../src/server/db/database.js';
import { freePort, startEmbeddedPostgres } from '../src/server/db/embedded.js';
import { startScheduleExecution } from '../src/server/execution/index.js';
import { SKIP_REASONS } from '../src/server/execution/invoke.js';
import { silentLogger } from '../src/shared/logger.js';

const SELF = fileURLToPath(import.meta.url);
const ok = { status: 200, headers: {}, body_b64: Buffer.from('{"ok":true}').toString('base64'), error: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.argv.includes('--child')) {
  const url = process.env.DATABASE_URL!;
  const pool = createPool(url, 20);
  pool.on('error', () => {}); // idle clients dropped while Postgres restarts
  const slowMs = Number(process.env.SLOW_MS ?? 200);
  const exec = await startScheduleExecution({
    databaseUrl: url,
    pool,
    logger: silentLogger,
    runner: { execute: async () => (await sleep(slowMs), ok) },
    options: { tickMs: 100, pollMs: 100, concurrency: 8, timeoutMs: 3000, expireGraceSeconds: 1, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1 },
  });
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void exec.stop().then(() => pool.end()).finally(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { phase: { type: 'string', default: 'all' }, schedules: { type: 'string', default: '200' } } });
  const N = Number(values.schedules);
  const phases = values.phase === 'all' ? ['kill', 'postgres'] : [values.phase!];
  let failed = false;
  for (const phase of phases) {
    const dataDir = mkdtempSync(join(tmpdir(), 'alga-faults-pg-'));
    const port = await freePort();
    let emb = await startEmbeddedPostgres({ dataDir, port, ephemeral: false });
    const pool = createPool(emb.url, 5);
    pool.on('error', () => {});
    const children: ChildProcess[] = [];
    const t0 = performance.now();
    try {
      await migrate(pool);
      const due = new Date(Date.UTC(new Date().getUTCFullYear(), 0, 1)); // latest occurrence of '0 0 1 1 *'
      const fixture = await insertInstall(pool);
      const deadline = Date.now() + 180_000;
      for (let i = 0; i < 2; i++) children.push(await spawnChild(emb.url));
      let expected = 0;
      let note = '';
      if (phase === 'kill') {
        await insertDue(pool, fixture, N, due);
        expected = N;
        // Kill the first process once it has runs in flight and some are done.
        for (;;) {
          const r = (await pool.query(`SELECT count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE status = 'success')::int AS done FROM extension_schedule_run`)).rows[0];
          if (r.running > 0 && r.done > N / 10) break;
          if (Date.now() > deadline) throw new Error('no run ever started');
          await sleep(20);
        }
        children[0]!.kill('SIGKILL');
        await new Promise((r) => children[0]!.once('exit', r));
        note = 'one of two processes killed (SIGKILL) mid-run';
      } else {
        // A batch of N/20 schedules falls due every 200 ms; Postgres stops after a third of them.
        const batch = Math.max(1, Math.round(N / 20));
        let restarted = false;
        while (expected < N) {
          const added = await insertDue(pool, fixture, batch, due).then(() => batch, () => 0);
          expected += added;
          if (!restarted && expected >= N / 3) {
            restarted = true;
            await emb.stop();
            await sleep(3000);
            emb = await startEmbeddedPostgres({ dataDir, port, ephemeral: false });
          }
          await sleep(200);
        }
        note = 'Postgres stopped for 3 s and started again under a steady load of due schedules';
      }
      let lastError = '';
      let c: { occ: number; ok1: number; dup: number; lost: number; failedRuns: number; doneRetries: number; turnedBack: number; runs: number } = { occ: 0, ok1: 0, dup: 0, lost: 0, failedRuns: 0, doneRetries: 0, turnedBack: 0, runs: 0 };
      for (;;) {
        const r = await pool
          .query(
            `WITH per AS (SELECT d.id, count(r.*) FILTER (WHERE r.status = 'success')::int AS ok, count(r.*)::int AS runs, count(r.*) FILTER (WHERE r.status = 'error')::int AS err,
                      count(r.*) FILTER (WHERE r.status = 'skipped' AND r.error = $1)::int AS done_retries,
                      count(r.*) FILTER (WHERE r.status = 'skipped' AND r.error = $2)::int AS turned_back
                 FROM tenant_extension_schedule d LEFT JOIN extension_schedule_run r ON r.schedule_id = d.id GROUP BY d.id)
             SELECT count(*)::int AS occ, count(*) FILTER (WHERE ok = 1)::int AS ok1, count(*) FILTER (WHERE ok > 1)::int AS dup,
                    count(*) FILTER (WHERE ok = 0)::int AS lost, coalesce(sum(err), 0)::int AS failed_runs, coalesce(sum(done_retries), 0)::int AS done_retries,
                    coalesce(sum(turned_back), 0)::int AS turned_back, coalesce(sum(runs), 0)::int AS runs FROM per`,
            [SKIP_REASONS.alreadySucceeded, SKIP_REASONS.earlierAttemptRunning],
          )
          .then((x) => x.rows[0], (e: Error) => void (lastError = e.message));
        if (r) c = { occ: r.occ, ok1: r.ok1, dup: r.dup, lost: r.lost, failedRuns: r.failed_runs, doneRetries: r.done_retries, turnedBack: r.turned_back, runs: r.runs };
        if (r && r.lost === 0) break;
        if (Date.now() > deadline || children.every((ch) => ch.exitCode !== null || ch.signalCode !== null)) break;
        await sleep(250);
      }
      const distinctOcc = (await pool.query(`SELECT count(DISTINCT occurrence_at)::int AS n FROM extension_schedule_run`)).rows[0].n;
      const alive = children.filter((ch) => ch.exitCode === null && ch.signalCode === null).length;
      const good = c.occ === expected && c.ok1 === expected && c.dup === 0 && c.lost === 0 && distinctOcc === 1 && alive === (phase === 'kill' ? 1 : 2);
      failed ||= !good;
      if (lastError && !good) console.log(`  last query error: ${lastError}`);
      console.log(`${phase}: ${note}`);
      console.log(`  occurrences ${c.occ} (expected ${expected}); exactly one successful run: ${c.ok1}; duplicated: ${c.dup}; lost: ${c.lost}`);
      console.log(`  run records ${c.runs} (failed or interrupted attempts retried: ${c.failedRuns}; retries of an occurrence already run to success, not run again: ${c.doneRetries}; retries turned back while their job's earlier attempt still ran: ${c.turnedBack}); processes still running ${alive}; ${((performance.now() - t0) / 1000).toFixed(1)} s; ${good ? 'ok' : 'FAILED'}`);
    } finally {
      for (const ch of children) await stopChild(ch);
      await pool.end().catch(() => {});
      await emb.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  process.exit(failed ? 1 : 0);
}

type Fixture = { installId: string; tenantId: string; endpointId: string };
async function insertInstall(pool: pg.Pool): Promise<Fixture> {
  const reg = await pool.query(`INSERT INTO extension_registry (publisher, name) VALUES ('bench', 'faults') RETURNING id`);
  const ver = await pool.query(`INSERT INTO extension_version (registry_id, version, runtime, main_entry) VALUES ($1, '1.0.0', 'wasm-js@1', 'x') RETURNING id`, [reg.rows[0].id]);
  await pool.query(`INSERT INTO extension_bundle (version_id, content_hash) VALUES ($1, $2)`, [ver.rows[0].id, `sha256:${'ab'.repeat(32)}`]);
  const ep = await pool.query(`INSERT INTO extension_api_endpoint (version_id, method, path, handler) VALUES ($1, 'POST', '/tick', 'h') RETURNING id`, [ver.rows[0].id]);
  const inst = await pool.query(`INSERT INTO tenant_extension_install (tenant_id, registry_id, version_id) VALUES ('bench', $1, $2) RETURNING id`, [reg.rows[0].id, ver.rows[0].id]);
  return { installId: inst.rows[0].id, tenantId: 'bench', endpointId: ep.rows[0].id };
}

async function insertDue(pool: pg.Pool, f: Fixture, count: number, dueAt: Date): Promise<void> {
  await pool.query(
    `WITH s AS (
       INSERT INTO tenant_extension_schedule (install_id, tenant_id, endpoint_id, cron, timezone)
       SELECT $1, $2, $3, '0 0 1 1 *', 'UTC' FROM generate_series(1, $4)
       RETURNING id, install_id, tenant_id, cron, timezone)
     INSERT INTO extension_schedule_dispatch (schedule_id, tenant_id, install_id, cron, timezone, next_run_at)
     SELECT id, tenant_id, install_id, cron, timezone, $5 FROM s`,
    [f.installId, f.tenantId, f.endpointId, count, dueAt],
  );
}

function spawnChild(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SELF, '--child'], { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
