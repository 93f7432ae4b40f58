/**
 * Child process for the cross-process rate-limit test: its own pool, service and limiter against the
 * shared database; prints `ready`, waits for a line on stdin, sends COUNT creates for INSTALL_ID, prints
 * the statuses.
 */
import { createPool } from '../../../src/server/db/database.js';
import { handleSchedulerOperation } from '../../../src/server/internal-api/scheduler-operation.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createAdmission } from '../../../src/server/scheduler/rate-limit.js';
import { createSchedulerService } from '../../../src/server/scheduler/service.js';

const { DATABASE_URL, INSTALL_ID, COUNT, OFFSET } = process.env;
const pool = createPool(DATABASE_URL!, 4);
const deps = { service: createSchedulerService({ pool, jobs: createPostgresJobEngine() }), admission: createAdmission({ pool }) };
// Connected and ready: the test starts both processes' creates at once with a line on stdin.
await pool.query('SELECT 1');
process.stdout.write('ready\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.pause();
const statuses: number[] = [];
for (let i = 0; i < Number(COUNT); i++) {
  const minute = (Number(OFFSET) + i) % 60;
  const reply = await handleSchedulerOperation(deps, INSTALL_ID!, { operation: 'create', endpoint: '/status', cron: `${minute} * * * *` });
  statuses.push(reply.status);
}
process.stdout.write(`${JSON.stringify(statuses)}\n`);
await pool.end();
