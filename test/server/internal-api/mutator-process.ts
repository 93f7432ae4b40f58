/**
 * Child process for the cross-process rate-limit test: its own pool, service and limiter against the
 * shared database; waits until START_AT, sends COUNT creates for INSTALL_ID, prints the statuses.
 */
import { createPool } from '../../../src/server/db/database.js';
import { handleSchedulerOperation } from '../../../src/server/internal-api/scheduler-operation.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { createAdmission } from '../../../src/server/scheduler/rate-limit.js';
import { createSchedulerService } from '../../../src/server/scheduler/service.js';

const { DATABASE_URL, INSTALL_ID, COUNT, START_AT, OFFSET } = process.env;
const pool = createPool(DATABASE_URL!, 4);
const deps = { service: createSchedulerService({ pool, jobs: createPostgresJobEngine() }), admission: createAdmission({ pool }) };
await new Promise((r) => setTimeout(r, Math.max(0, Number(START_AT) - Date.now())));
const statuses: number[] = [];
for (let i = 0; i < Number(COUNT); i++) {
  const minute = (Number(OFFSET) + i) % 60;
  const reply = await handleSchedulerOperation(deps, INSTALL_ID!, { operation: 'create', endpoint: '/status', cron: `${minute} * * * *` });
  statuses.push(reply.status);
}
process.stdout.write(JSON.stringify(statuses));
await pool.end();
