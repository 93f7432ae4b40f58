/**
 * A second (third…) platform process for the multi-process tests and the benchmark: schedule
 * execution only, on the database in DATABASE_URL, with a fake runner (MODE=noop answers at once,
 * MODE=slow waits SLOW_MS). Prints `ready` when started and `ran <n>` when stopped by SIGTERM.
 */
import { createPool } from '../../../src/server/db/database.js';
import { startScheduleExecution } from '../../../src/server/execution/index.js';
import { createLogger, silentLogger } from '../../../src/shared/logger.js';
import { ok } from './support.js';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const url = process.env.DATABASE_URL!;
const pool = createPool(url, env('POOL_SIZE', 20));
let ran = 0;
const slowMs = env('SLOW_MS', 0);
const exec = await startScheduleExecution({
  databaseUrl: url,
  pool,
  logger: process.env.CHILD_LOG ? createLogger({ level: 'info' }) : silentLogger,
  runner: {
    async execute() {
      ran++;
      if (slowMs) await new Promise((r) => setTimeout(r, slowMs));
      return ok();
    },
  },
  options: {
    tickMs: env('TICK_MS', 50),
    pollMs: env('POLL_MS', 50),
    concurrency: env('CONCURRENCY', 16),
    timeoutMs: env('TIMEOUT_MS', 30_000),
    expireGraceSeconds: env('EXPIRE_GRACE', 60),
    retryDelaySeconds: 1,
    maintenanceIntervalSeconds: 1,
    work: process.env.NO_WORK ? false : true,
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void exec
    .stop()
    .then(() => pool.end())
    .finally(() => {
      process.stdout.write(`ran ${ran}\n`);
      process.exit(0);
    });
});
