/**
 * The split runner's services built in a real worker_thread from the spec `startRunnerService`
 * produced: the HTTP clients to the platform's internal routes (a real platform on loopback) answer
 * from the worker as the main thread's clients and the in-process backends do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig, runnerServices } from '../../../src/config.js';
import { createHttpPlatformApiBackend } from '../../../src/host/http/platform-api-client.js';
import { createHttpSchedulerBackend } from '../../../src/host/http/scheduler-client.js';
import { createHttpStorageBackend } from '../../../src/host/http/storage-client.js';
import { createWorkerIo, WORKER_HTTP_CONNECTIONS, type HttpWorkerIoOptions } from '../../../src/host/http/worker-io.js';
import { startPlatform, type Platform } from '../../../src/platform.js';
import { startRunnerService, type RunnerService } from '../../../src/runner-service.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InstalledExtension } from '../../support/fixtures.js';
import { startWorkerIo, type WorkerIoThread } from '../../support/worker-io.js';
import { PLATFORM_DATA } from '../../support/platform-data.js';

const TOKEN = 'worker-io-split-token';
const { CLIENT_ID: C, SERVICE_ID: S, UNKNOWN_ID: UNKNOWN, ONE_CLIENT_ONE_SERVICE: DATA } = PLATFORM_DATA;

let db: TestDatabase;
const dirs: string[] = [];
let platform: Platform;
let service: RunnerService;
let install: InstalledExtension;
let worker: WorkerIoThread;
let http: { scheduler: ReturnType<typeof createHttpSchedulerBackend>; storage: ReturnType<typeof createHttpStorageBackend>; platformApi: ReturnType<typeof createHttpPlatformApiBackend> };
const local = () => platform.backends!;
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'alga-worker-io-http-'));
  dirs.push(d);
  return d;
};

before(async () => {
  db = await createTestDatabase();
  platform = await startPlatform({ databaseUrl: db.url, dataDir: dir(), port: 0, runnerToken: TOKEN, logger: silentLogger, platformData: DATA, execution: { enabled: false } });
  service = await startRunnerService({ port: 0, dataDir: dir(), config: loadConfig({}), callbackBaseUrl: platform.url, token: TOKEN, logger: silentLogger, concurrency: 1 });
  install = await insertInstall(db.pool, { tenantId: 'tenant-wio-http' });
  await db.pool.query(`UPDATE tenant_extension_install SET granted_caps = $2::jsonb WHERE id = $1`, [install.installId, JSON.stringify(['cap:client.read', 'cap:invoice.manual.create'])]);
  const base = { baseUrl: platform.url, token: TOKEN };
  http = { scheduler: createHttpSchedulerBackend(base), storage: createHttpStorageBackend(base), platformApi: createHttpPlatformApiBackend(base) };
  worker = await startWorkerIo(service.workerIo);
});
after(async () => {
  await worker?.terminate();
  await Promise.all(Object.values(http ?? {}).map((b) => b.close()));
  await service?.stop();
  await platform?.stop();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the spec', () => {
  test('names the host\'s HTTP module by file URL and carries only data: the base URL, the token, the runner settings', () => {
    const spec = service.workerIo;
    assert.equal(spec.module, new URL('../../../src/host/http/worker-io.js', import.meta.url).href);
    assert.deepEqual(structuredClone(spec), spec);
    assert.deepEqual(spec.options, { callbackBase: platform.url, token: TOKEN, settings: runnerServices(loadConfig({})), connections: WORKER_HTTP_CONNECTIONS } satisfies HttpWorkerIoOptions);
    assert.deepEqual(worker.settings, runnerServices(loadConfig({})));
  });

  test('options that are not the spec\'s: a TypeError naming the field, never the token', () => {
    const env = { now: () => new Date(), logger: silentLogger };
    assert.throws(() => createWorkerIo(null, env), { name: 'TypeError', message: /options must be an object/ });
    assert.throws(() => createWorkerIo({ ...(service.workerIo.options as object), connections: 0 }, env), { name: 'TypeError', message: /options\.connections/ });
    // The sandbox reports a factory's error as the execution's failure: it must not carry the token.
    const withToken = { ...(service.workerIo.options as HttpWorkerIoOptions), token: 'tok-never-in-an-error' };
    for (const bad of [{ connections: 0 }, { callbackBase: 7 }, { token: 7, callbackBase: 'http://u:tok-never-in-an-error@127.0.0.1:1' }]) {
      assert.throws(() => createWorkerIo({ ...withToken, ...bad }, env), (e: Error) => e instanceof TypeError && !`${e.message} ${e.stack}`.includes('tok-never-in-an-error'));
    }
  });
});

describe('answers as the main thread\'s clients and the in-process backends', () => {
  test('scheduler: get of an unknown id, create, get of what the worker made', async () => {
    const get = (id: string) => ({ operation: 'get' as const, scheduleId: id });
    const unknown = await worker.call('scheduler', install.installId, get(UNKNOWN));
    assert.deepEqual(unknown, await http.scheduler.call(install.installId, get(UNKNOWN)));
    assert.deepEqual(unknown, await local().scheduler.call(install.installId, get(UNKNOWN)));

    const made = await worker.call('scheduler', install.installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *', name: 'hourly' });
    assert.equal(made.status, 201, JSON.stringify(made));
    const mine = await worker.call('scheduler', install.installId, get(made.body.scheduleId));
    assert.equal(mine.body.schedule.name, 'hourly');
    assert.deepEqual(mine, await http.scheduler.call(install.installId, get(made.body.scheduleId)));
    assert.deepEqual(mine, await local().scheduler.call(install.installId, get(made.body.scheduleId)));
  });

  test('storage: put, get, conflict, delete', async () => {
    const b64 = { encoding: 'base64-bytes' as const };
    const get = { operation: 'get' as const, namespace: 'n', key: 'k' };
    const written = await worker.call('storage', install.installId, { operation: 'put', namespace: 'n', key: 'k', value: 'aGk=', metadata: b64 });
    assert.equal(written.status, 200);
    assert.equal(written.body.revision, 1);
    assert.deepEqual(await worker.call('storage', install.installId, get), await http.storage.call(install.installId, get));

    const stale = { operation: 'put' as const, namespace: 'n', key: 'k', value: 'aGk=', metadata: b64, ifRevision: 7 };
    const conflict = await worker.call('storage', install.installId, stale);
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict, await http.storage.call(install.installId, stale));
    assert.deepEqual(conflict, await local().storage.call(install.installId, stale));

    assert.equal((await worker.call('storage', install.installId, { operation: 'delete', namespace: 'n', key: 'k' })).status, 200);
    const gone = await worker.call('storage', install.installId, get);
    assert.notEqual(gone.status, 200);
    assert.deepEqual(gone, await http.storage.call(install.installId, get));
  });

  test('clients list from the platform data; an invoice; a wrong token answers as the main thread\'s client', async () => {
    const list = { operation: 'list', input: {} };
    const clients: { status: number; text: string } = await worker.call('platformApi', 'clients', install.installId, list);
    assert.equal(clients.status, 200);
    assert.match(clients.text, /"Acme"/);
    assert.deepEqual(clients, await http.platformApi.call('clients', install.installId, list));
    assert.deepEqual(clients, await local().platformApi.call('clients', install.installId, list));

    const invoice = { operation: 'createManualInvoice', clientId: C, items: [{ serviceId: S, quantity: 2, description: 'Remote support', rate: 12000 }] };
    const a = await worker.call('platformApi', 'invoicing', install.installId, invoice);
    assert.equal(a.status, 201, a.text);
    assert.equal(JSON.parse(a.text).invoice.invoiceNumber, 'INV-000001');
    const b = await http.platformApi.call('invoicing', install.installId, invoice);
    assert.ok(b.kind === 'answer');
    assert.equal(JSON.parse(b.text).invoice.invoiceNumber, 'INV-000002');

    const spec = service.workerIo;
    const wrong = await startWorkerIo({ module: spec.module, options: { ...(spec.options as HttpWorkerIoOptions), token: 'not-the-token' } });
    const mainWrong = createHttpSchedulerBackend({ baseUrl: platform.url, token: 'not-the-token' });
    try {
      const refused = await wrong.call('scheduler', install.installId, { operation: 'list' });
      assert.equal(refused.status, 401);
      assert.deepEqual(refused, await mainWrong.call(install.installId, { operation: 'list' }));
      await wrong.close();
    } finally {
      await mainWrong.close();
      await wrong.terminate();
    }
  });
});

describe('connections', () => {
  test(`${WORKER_HTTP_CONNECTIONS * 5} concurrent calls from the worker use at most ${WORKER_HTTP_CONNECTIONS} connections to the platform`, async () => {
    // A platform that holds every request until told: the worker's pool is full while they wait.
    let sockets = 0;
    let most = 0;
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => held.push(res));
    });
    server.on('connection', (s) => {
      most = Math.max(most, ++sockets);
      s.on('close', () => sockets--);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const spec = service.workerIo;
    const w = await startWorkerIo({ module: spec.module, options: { ...(spec.options as HttpWorkerIoOptions), callbackBase: `http://127.0.0.1:${(server.address() as { port: number }).port}` } });
    try {
      const n = WORKER_HTTP_CONNECTIONS * 5;
      const answers = w.concurrently('scheduler', Array.from({ length: n }, () => [install.installId, { operation: 'list' }]));
      for (let i = 0; i < 500 && held.length < WORKER_HTTP_CONNECTIONS; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(held.length, WORKER_HTTP_CONNECTIONS, 'the pool filled up');
      // An unbounded pool opens more while these wait; look a while longer.
      for (let i = 0; i < 25; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(most, WORKER_HTTP_CONNECTIONS);
      // Then every request is answered, on those connections.
      let answered = 0;
      // Bounded, so that a worker that loses a request fails here instead of hanging the suite.
      for (let idle = 0; answered < n && idle < 2000; ) {
        const res = held.shift();
        if (!res) {
          idle++;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"schedules":[]}');
        answered++;
      }
      assert.equal(answered, n, 'every request reached the platform');
      for (const a of await answers) assert.deepEqual(a, { status: 200, body: { schedules: [] } });
      assert.equal(most, WORKER_HTTP_CONNECTIONS);
      await w.close();
    } finally {
      await w.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
