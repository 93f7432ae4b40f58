import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogger } from '../../../src/shared/logger.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { renderMetrics, schedulerApiCalls, schedulerApiErrors } from '../../../src/server/scheduler/metrics.js';
import { createSchedulerService } from '../../../src/server/scheduler/service.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

async function value(counter: typeof schedulerApiCalls, labels: Record<string, string>): Promise<number> {
  const m = await counter.get();
  return m.values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0;
}

test('metrics: each call counts by operation and outcome; failures also count as errors; one log line per call', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (l) => lines.push(JSON.parse(l)) });
  const svc = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine(), logger });
  const ctx = await insertInstall(db.pool);
  const okBefore = await value(schedulerApiCalls, { operation: 'create', outcome: 'ok' });
  const failedBefore = await value(schedulerApiErrors, { operation: 'create', outcome: 'failed' });

  const r = await svc.create(ctx, { endpoint: '/status', cron: '0 * * * *' });
  await svc.create(ctx, { endpoint: '/status', cron: '* * * * *' });
  await svc.listForInstall(ctx.installId);

  assert.equal(await value(schedulerApiCalls, { operation: 'create', outcome: 'ok' }), okBefore + 1);
  assert.equal(await value(schedulerApiErrors, { operation: 'create', outcome: 'failed' }), failedBefore + 1);
  assert.equal(await value(schedulerApiErrors, { operation: 'create', outcome: 'ok' }), 0);

  assert.equal(lines.length, 3);
  assert.deepEqual(
    { ...lines[0], time: undefined, durationMs: undefined },
    { time: undefined, level: 'info', msg: 'scheduler host API call', operation: 'create', tenantId: ctx.tenantId, installId: ctx.installId, scheduleId: r.scheduleId, outcome: 'ok', durationMs: undefined },
  );
  assert.equal(typeof lines[0].durationMs, 'number');
  assert.equal(lines[1].outcome, 'failed');
  assert.equal(lines[1].error, 'Cron too frequent (minimum interval is 5 minutes)');
  assert.equal(lines[2].operation, 'list');
});

test('metrics: a get that finds nothing is a success', async () => {
  const svc = createSchedulerService({ pool: db.pool, jobs: createPostgresJobEngine() });
  const before = await value(schedulerApiCalls, { operation: 'get', outcome: 'ok' });
  assert.equal(await svc.get(await insertInstall(db.pool), '5b6f0d7e-0000-4000-8000-000000000000'), null);
  assert.equal(await value(schedulerApiCalls, { operation: 'get', outcome: 'ok' }), before + 1);
});

test('metrics: renderMetrics gives Prometheus text with the three metric families in seconds', async () => {
  const text = await renderMetrics();
  assert.match(text, /# TYPE extension_scheduler_api_calls_total counter/);
  assert.match(text, /# TYPE extension_scheduler_api_errors_total counter/);
  assert.match(text, /# TYPE extension_scheduler_api_duration_seconds histogram/);
  assert.match(text, /extension_scheduler_api_calls_total\{operation="create",outcome="ok"\} \d+/);
  assert.match(text, /extension_scheduler_api_duration_seconds_bucket\{le="0\.005",operation="create",outcome="ok"\} \d+/);
  assert.doesNotMatch(text, /tenant_id=/);
});
