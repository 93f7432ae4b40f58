/**
 * The in-process platform's services built in a real worker_thread from the spec `startPlatform`
 * produced (the JSPI path's sandbox worker does the same): they answer as the main thread's backends
 * do, on the execution's clock, on a pool that never holds more than its bound and ends with close().
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig, runnerServices } from '../src/config.js';
import { startPlatform, type Platform } from '../src/platform.js';
import { createWorkerIo, WORKER_IO_APPLICATION_NAME, WORKER_POOL_MAX, type PlatformWorkerIoOptions } from '../src/platform-worker-io.js';
import { clockOffsetMs, createManualClock } from '../src/server/execution/clock.js';
import { createPostgresJobEngine } from '../src/server/scheduler/job-engine.js';
import { schedulerApiCalls, schedulerMetricsChannel } from '../src/server/scheduler/metrics.js';
import { silentLogger } from '../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { insertInstall, type InstalledExtension } from './support/fixtures.js';
import { startWorkerIo, type WorkerIoThread } from './support/worker-io.js';
import { PLATFORM_DATA } from './support/platform-data.js';

const { CLIENT_ID: C, SERVICE_ID: S, UNKNOWN_ID: UNKNOWN, ONE_CLIENT_ONE_SERVICE: DATA } = PLATFORM_DATA;
// Far from the wall clock: what the worker's services write shows which clock they read.
const clock = createManualClock('2026-07-04T23:30:00Z');

let db: TestDatabase;
let dataDir: string;
let platform: Platform;
let install: InstalledExtension;
let worker: WorkerIoThread;
const workers: WorkerIoThread[] = [];
const main = () => platform.backends!;

async function thread(spec = platform.workerIo!): Promise<WorkerIoThread> {
  const w = await startWorkerIo(spec, { clockOffsetMs: clockOffsetMs(clock) });
  workers.push(w);
  return w;
}

/** This database's connections opened by sandbox-worker pools, and those of them waiting on a lock. */
async function workerConnections(): Promise<{ all: number; locked: number }> {
  const r = await db.pool.query<{ all: number; locked: number }>(
    `SELECT count(*)::int AS all, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS locked
     FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [WORKER_IO_APPLICATION_NAME],
  );
  return r.rows[0]!;
}

/** The backend pids of this database's sandbox-worker connections. */
async function workerPids(): Promise<Set<number>> {
  const r = await db.pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [WORKER_IO_APPLICATION_NAME]);
  return new Set(r.rows.map((x) => x.pid));
}

/** Polls until `done` (at most `tries` polls, 20 ms apart); returns the last value. */
async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, tries = 500): Promise<T> {
  let v = await read();
  for (let i = 0; i < tries && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 20));
    v = await read();
  }
  return v;
}

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-worker-io-'));
  platform = await startPlatform({ databaseUrl: db.url, dataDir, logger: silentLogger, platformData: DATA, execution: { enabled: false, clock } });
  install = await insertInstall(db.pool, { tenantId: 'tenant-wio' });
  await db.pool.query(`UPDATE tenant_extension_install SET granted_caps = $2::jsonb WHERE id = $1`, [install.installId, JSON.stringify(['cap:client.read', 'cap:invoice.manual.create'])]);
  worker = await thread();
});
after(async () => {
  for (const w of workers) await w.terminate();
  await platform?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the spec', () => {
  test('names this module by file URL and carries only data: the database, the platform data, the runner settings', () => {
    const spec = platform.workerIo!;
    assert.equal(spec.module, new URL('../src/platform-worker-io.js', import.meta.url).href);
    assert.deepEqual(structuredClone(spec), spec);
    const o = spec.options as PlatformWorkerIoOptions;
    assert.equal(o.databaseUrl, db.url);
    assert.deepEqual(o.platformData, DATA);
    assert.equal(o.poolMax, WORKER_POOL_MAX);
    assert.equal(o.metricsChannel, schedulerMetricsChannel());
    assert.deepEqual(worker.settings, runnerServices(loadConfig()));
  });

  test('a platform given its own job engine produces none (its runner keeps the bridge)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alga-worker-io-jobs-'));
    const other = await startPlatform({ databaseUrl: db.url, dataDir: dir, logger: silentLogger, jobs: createPostgresJobEngine(), execution: { enabled: false } });
    try {
      assert.ok(other.backends, 'an in-process platform');
      assert.equal(other.workerIo, undefined);
    } finally {
      await other.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('options that are not the spec\'s: a TypeError naming the field, never the database password', () => {
    const env = { now: () => new Date(), logger: silentLogger };
    const good = platform.workerIo!.options as PlatformWorkerIoOptions;
    assert.throws(() => createWorkerIo(null, env), { name: 'TypeError', message: /options\.databaseUrl/ });
    assert.throws(() => createWorkerIo({ ...good, platformData: undefined }, env), { name: 'TypeError', message: /options\.platformData/ });
    assert.throws(() => createWorkerIo({ ...good, poolMax: 0 }, env), { name: 'TypeError', message: /options\.poolMax/ });
    // The sandbox reports a factory's error as the execution's failure: it must not carry the password.
    const secret = 'pw-never-in-an-error';
    const withPassword = { ...good, databaseUrl: `postgres://alga:${secret}@127.0.0.1:1/x` };
    for (const bad of [{ poolMax: 0 }, { idleTimeoutMs: -1 }, { platformData: null }, { metricsChannel: '' }]) {
      assert.throws(() => createWorkerIo({ ...withPassword, ...bad }, env), (e: Error) => e instanceof TypeError && !`${e.message} ${e.stack}`.includes(secret));
    }
  });
});

describe('answers as the main thread\'s backends', () => {
  test('scheduler: get of an unknown id, list, create on the execution\'s clock; each side reads the other\'s schedule', async () => {
    const get = (id: string) => ({ operation: 'get', scheduleId: id });
    assert.deepEqual(await worker.call('scheduler', install.installId, get(UNKNOWN)), await main().scheduler.call(install.installId, get(UNKNOWN) as never));
    assert.deepEqual(await worker.call('scheduler', UNKNOWN, { operation: 'list' }), await main().scheduler.call(UNKNOWN, { operation: 'list' }));

    const create = { operation: 'create', endpoint: '/status', cron: '0 * * * *', timezone: 'UTC', name: 'hourly' };
    const made = await worker.call('scheduler', install.installId, create);
    assert.equal(made.status, 201, JSON.stringify(made));
    const id = made.body.scheduleId as string;
    const mine = await worker.call('scheduler', install.installId, get(id));
    assert.equal(mine.body.schedule.name, 'hourly');
    assert.deepEqual(mine, await main().scheduler.call(install.installId, get(id) as never));
    // The next occurrence was computed from the platform's clock (23:30 on 4 July), not the wall clock.
    const next = await db.pool.query<{ next_run_at: Date }>(`SELECT next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [id]);
    assert.equal(next.rows[0]?.next_run_at.toISOString(), '2026-07-05T00:00:00.000Z');

    const dup = await worker.call('scheduler', install.installId, create);
    assert.deepEqual(dup, await main().scheduler.call(install.installId, create as never));
    assert.equal(dup.status, 400);

    // And the other way: what the main thread made, the worker reads alike.
    const theirs = await main().scheduler.call(install.installId, { ...create, cron: '30 * * * *', name: 'from-main' } as never);
    assert.equal(theirs.status, 201, JSON.stringify(theirs));
    const theirId = (theirs.body as { scheduleId: string }).scheduleId;
    const read = await worker.call('scheduler', install.installId, get(theirId));
    assert.equal(read.body.schedule.name, 'from-main');
    assert.deepEqual(read, await main().scheduler.call(install.installId, get(theirId) as never));
  });

  test('scheduler metrics: the worker\'s calls are counted in the registry of the thread that made the spec (GET /metrics), once each', async () => {
    const count = (operation: string, outcome: string) => async () =>
      (await schedulerApiCalls.get()).values.find((v) => v.labels.operation === operation && v.labels.outcome === outcome)?.value ?? 0;
    const gets = count('get', 'ok');
    const lists = count('list', 'not_found');
    const [getsBefore, listsBefore] = [await gets(), await lists()];
    await worker.concurrently('scheduler', [1, 2, 3].map(() => [install.installId, { operation: 'get', scheduleId: UNKNOWN }]));
    // The worker's observations arrive in order: once its last call is counted, so is every earlier one.
    await worker.call('scheduler', UNKNOWN, { operation: 'list' });
    assert.equal(await pollUntil(lists, (n) => n > listsBefore), listsBefore + 1);
    assert.equal(await gets(), getsBefore + 3);
  });

  test('storage: put on the execution\'s clock, get, conflicts and delete answer alike', async () => {
    const put = (o: Record<string, unknown> = {}) => ({ operation: 'put', namespace: 'n', key: 'k', value: { a: 1 }, ttlSeconds: 3600, ...o });
    const get = { operation: 'get', namespace: 'n', key: 'k' };
    const written = await worker.call('storage', install.installId, put());
    assert.equal(written.status, 200);
    assert.equal(written.body.revision, 1);
    assert.match(written.body.ttlExpiresAt, /^2026-07-05T00:3/);
    assert.deepEqual(await worker.call('storage', install.installId, get), await main().storage.call(install.installId, get as never));

    const stale = put({ ifRevision: 7 });
    const conflict = await worker.call('storage', install.installId, stale);
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict, await main().storage.call(install.installId, stale as never));
    const staleDelete = { operation: 'delete', namespace: 'n', key: 'k', ifRevision: 7 };
    assert.deepEqual(await worker.call('storage', install.installId, staleDelete), await main().storage.call(install.installId, staleDelete as never));

    const del = { operation: 'delete', namespace: 'n', key: 'k' };
    assert.equal((await worker.call('storage', install.installId, del)).status, 200);
    const gone = await worker.call('storage', install.installId, get);
    assert.deepEqual(gone, await main().storage.call(install.installId, get as never));
    assert.notEqual(gone.status, 200);
  });

  test('clients: the platform data crossed; services: not granted, alike', async () => {
    const list = { operation: 'list', input: {} };
    const clients: { status: number; text: string } = await worker.call('platformApi', 'clients', install.installId, list);
    assert.deepEqual(clients, await main().platformApi.call('clients', install.installId, list));
    assert.equal(clients.status, 200);
    assert.match(clients.text, /"Acme"/);
    const services: { status: number; text: string } = await worker.call('platformApi', 'services', install.installId, list);
    assert.deepEqual(services, await main().platformApi.call('services', install.installId, list));
    assert.equal(services.status, 403);
  });

  test('invoicing: a draft invoice, dated by the execution\'s clock; the next number from the main thread', async () => {
    const invoice = { operation: 'createManualInvoice', clientId: C, items: [{ serviceId: S, quantity: 2, description: 'Remote support', rate: 12000 }] };
    const a = await worker.call('platformApi', 'invoicing', install.installId, invoice);
    const b = await main().platformApi.call('invoicing', install.installId, invoice);
    assert.equal(a.status, 201, a.text);
    assert.ok(b.kind === 'answer');
    const ja = JSON.parse(a.text);
    const jb = JSON.parse(b.text);
    assert.deepEqual([ja.invoice.invoiceNumber, jb.invoice.invoiceNumber], ['INV-000001', 'INV-000002']);
    const same = (j: any) => ({ ...j, invoice: { ...j.invoice, invoiceId: 'id', invoiceNumber: 'n' } });
    assert.deepEqual({ status: a.status, body: same(ja) }, { status: b.status, body: same(jb) });
    const dated = await db.pool.query<{ d: string }>(`SELECT invoice_date::text AS d FROM invoices WHERE invoice_id = $1`, [ja.invoice.invoiceId]);
    assert.equal(dated.rows[0]?.d, '2026-07-04');
  });
});

describe('connections', () => {
  test(`${WORKER_POOL_MAX * 5} concurrent storage calls hold at most ${WORKER_POOL_MAX} connections; close() leaves none`, async () => {
    const get = { operation: 'get', namespace: 'n', key: 'k' };
    const expected = await main().storage.call(install.installId, get as never);
    // Every storage call waits on this lock, holding its connection: the pool is full until it goes.
    const holder = await db.pool.connect();
    let most = 0;
    let answers: Promise<unknown[]>;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE ext_storage_records IN ACCESS EXCLUSIVE MODE');
      answers = worker.concurrently('storage', Array.from({ length: WORKER_POOL_MAX * 5 }, () => [install.installId, get]));
      const full = await pollUntil(workerConnections, (c) => c.locked >= WORKER_POOL_MAX);
      assert.equal(full.locked, WORKER_POOL_MAX, 'the pool filled up');
      // An unbounded pool opens more while these wait; look a while longer.
      for (let i = 0; i < 25; i++) {
        most = Math.max(most, (await workerConnections()).all);
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
    const out = await answers!;
    assert.equal(out.length, WORKER_POOL_MAX * 5);
    for (const a of out) assert.deepEqual(a, expected);
    assert.equal(most, WORKER_POOL_MAX);

    await worker.close();
    assert.deepEqual(await pollUntil(workerConnections, (c) => c.all === 0), { all: 0, locked: 0 });
  });

  test('an idle worker releases its connections after its own idle timeout, not the pool library\'s default (without close)', async () => {
    // pg's pool closes idle connections after 10 s when not told otherwise: a worker that ignored its
    // idle timeout would still end at none. So a worker told to keep them (10 min) opens first, and
    // must still hold its own when the 50 ms worker's are gone.
    const spec = platform.workerIo!;
    const options = spec.options as PlatformWorkerIoOptions;
    const get = { operation: 'get', namespace: 'n', key: 'k' };
    const keeper = await thread({ module: spec.module, options: { ...options, idleTimeoutMs: 600_000 } });
    await keeper.concurrently('storage', [[install.installId, get], [install.installId, get]]);
    const kept = await workerPids();
    assert.ok(kept.size > 0, 'the keeping worker opened connections');
    const idle = await thread({ module: spec.module, options: { ...options, idleTimeoutMs: 50 } });
    await idle.concurrently('storage', [[install.installId, get], [install.installId, get]]);
    const short = [...(await workerPids())].filter((p) => !kept.has(p));
    assert.ok(short.length > 0, 'the idle worker opened connections');

    const left = await pollUntil(workerPids, (pids) => short.every((p) => !pids.has(p)));
    assert.deepEqual(short.filter((p) => left.has(p)), [], 'the idle worker released its connections');
    assert.deepEqual([...kept].filter((p) => !left.has(p)), [], 'the keeping worker still holds its own');
    await idle.close();
    await keeper.close();
    assert.equal((await pollUntil(workerConnections, (c) => c.all === 0)).all, 0);
  });
});
