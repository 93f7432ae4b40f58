import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { createLogger } from '../../../src/shared/logger.js';
import { createPostgresJobEngine } from '../../../src/server/scheduler/job-engine.js';
import { renderMetrics, schedulerApiCalls, schedulerApiErrors, schedulerMetricsChannel } from '../../../src/server/scheduler/metrics.js';
import { createSchedulerService } from '../../../src/server/scheduler/service.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';
import type { MetricsAsk } from '../../support/metrics-thread.js';

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

/** A thread running metrics-thread.ts. */
function metricsThread() {
  const worker = new Worker(new URL('../../support/metrics-thread.js', import.meta.url));
  let next = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  worker.on('message', (m: { id: number; value: unknown }) => waiting.get(m.id)?.(m.value));
  return {
    ask: (m: MetricsAsk) =>
      new Promise<any>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        worker.postMessage({ ...m, id });
      }),
    stop: () => worker.terminate(),
  };
}

test('metrics: a thread other than the main one counts its own calls (a platform may run in any thread)', async () => {
  const t = metricsThread();
  try {
    await t.ask({ op: 'record', operation: 'own-thread', outcome: 'ok', times: 2 });
    assert.equal(await t.ask({ op: 'count', operation: 'own-thread', outcome: 'ok' }), 2);
  } finally {
    await t.stop();
  }
});

test('metrics: a sandbox worker\'s calls count once in the registry of the thread whose channel it was given, whichever thread that is', async () => {
  // `last` is the sandbox worker's last call: its observations arrive in order, so once it is
  // counted every earlier one is too.
  const here = schedulerMetricsChannel();
  const mainBefore = await value(schedulerApiCalls, { operation: 'forwarded', outcome: 'ok' });
  const owner = metricsThread(); // a platform's thread that is not the main one
  const sandbox = metricsThread();
  const toMain = metricsThread();
  try {
    const ownerChannel: string = await owner.ask({ op: 'channel' });
    assert.notEqual(ownerChannel, here);
    await sandbox.ask({ op: 'forward', channel: ownerChannel });
    await sandbox.ask({ op: 'record', operation: 'forwarded', outcome: 'ok', times: 3 });
    await sandbox.ask({ op: 'record', operation: 'forwarded-last', outcome: 'ok', times: 1 });
    assert.equal(await owner.ask({ op: 'count', operation: 'forwarded-last', outcome: 'ok', atLeast: 1 }), 1);
    assert.equal(await owner.ask({ op: 'count', operation: 'forwarded', outcome: 'ok' }), 3);
    assert.equal(await sandbox.ask({ op: 'count', operation: 'forwarded', outcome: 'ok' }), 0, 'not in the sandbox worker\'s own registry');

    // Another worker forwarding to this thread: counted here, once; the owner's calls never were.
    await toMain.ask({ op: 'forward', channel: here });
    await toMain.ask({ op: 'record', operation: 'forwarded', outcome: 'ok', times: 2 });
    await toMain.ask({ op: 'record', operation: 'forwarded-last', outcome: 'ok', times: 1 });
    const last = async () => value(schedulerApiCalls, { operation: 'forwarded-last', outcome: 'ok' });
    for (let i = 0; i < 500 && (await last()) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await last(), 1);
    assert.equal(await value(schedulerApiCalls, { operation: 'forwarded', outcome: 'ok' }), mainBefore + 2);
    assert.equal(await owner.ask({ op: 'count', operation: 'forwarded', outcome: 'ok' }), 3);
  } finally {
    await Promise.all([owner.stop(), sandbox.stop(), toMain.stop()]);
  }
});

test('metrics: a sandbox worker sends its observations in batches (at each flush, or soon after the first held one), not a message per call, and every call counts', async () => {
  const owner = metricsThread();
  const sandbox = metricsThread();
  // Any channel of the same name receives every message: this one counts what crosses.
  let listen: BroadcastChannel | undefined;
  try {
    const ownerChannel: string = await owner.ask({ op: 'channel' });
    const messages: unknown[] = [];
    listen = new BroadcastChannel(ownerChannel);
    listen.onmessage = (e) => messages.push((e as { data: unknown }).data);
    await sandbox.ask({ op: 'forward', channel: ownerChannel });
    await sandbox.ask({ op: 'record', operation: 'batched', outcome: 'ok', times: 50 });
    await sandbox.ask({ op: 'flush' });
    assert.equal(await owner.ask({ op: 'count', operation: 'batched', outcome: 'ok', atLeast: 50 }), 50);
    const messagesReach = async (n: number) => {
      for (let i = 0; i < 500 && messages.length < n; i++) await new Promise((r) => setTimeout(r, 20));
      return messages.length;
    };
    assert.equal(await messagesReach(1), 1, 'one message for the 50 calls');
    assert.equal((messages[0] as unknown[]).length, 50);

    // Not flushed: sent anyway, shortly after.
    await sandbox.ask({ op: 'record', operation: 'batched', outcome: 'ok', times: 3 });
    assert.equal(await owner.ask({ op: 'count', operation: 'batched', outcome: 'ok', atLeast: 53 }), 53);
    assert.equal(await messagesReach(2), 2);
    assert.deepEqual(messages.map((m) => (m as unknown[]).length), [50, 3]);
    assert.equal(await sandbox.ask({ op: 'count', operation: 'batched', outcome: 'ok' }), 0, 'not in the sandbox worker\'s own registry');
  } finally {
    listen?.close();
    await Promise.all([owner.stop(), sandbox.stop()]);
  }
});
