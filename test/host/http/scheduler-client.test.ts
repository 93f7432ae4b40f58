/**
 * The runner's HTTP scheduler callback against a stub that answers byte for byte as production's
 * internal route does, through the real WIT boundary (the probe component).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createHttpSchedulerBackend } from '../../../src/host/http/scheduler-client.js';
import { loadConfig } from '../../../src/config.js';
import { startProbeRunner, type ProbeRunner } from './probe-runner.js';

interface Seen { url: string; auth: string | undefined; type: string | undefined; body: unknown }
let stub: Server;
let base: string;
let probe: ProbeRunner;
const seen: Seen[] = [];
/** Production's answers, as raw bytes, by operation. */
let answer: (op: string) => { status: number; body: string };

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

before(async () => {
  stub = createServer(async (req, res) => {
    const body = (await readJson(req)) as { operation: string };
    seen.push({ url: req.url!, auth: req.headers['x-runner-auth'] as string, type: req.headers['content-type'], body });
    const a = answer(body.operation);
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(a.body);
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  probe = await startProbeRunner({ services: { scheduler: createHttpSchedulerBackend({ baseUrl: loadConfig({ STORAGE_API_BASE_URL: `${base}/api` }).callbackBaseUrl, token: 'runner-token' }) } });
});
after(async () => {
  await probe?.runner.close();
  stub?.close();
});

describe('scheduler callback over HTTP', () => {
  test('create: the guest sees production\'s 400 body — error and field errors (differences.md#field-errors)', async () => {
    const message = 'Invalid cron expression (expected 5 fields: m h dom mon dow)';
    answer = () => ({ status: 400, body: `{"success":false,"error":"${message}","fieldErrors":{"cron":"${message}"}}` });
    const [r] = await probe.probe([{ fn: 'scheduler.create-schedule', args: [{ endpoint: '/echo', cron: '* * *', payload: '{"b":2,"a":1}' }] }]);
    assert.equal(r.ok.success, false);
    assert.equal(r.ok.error, message);
    assert.deepEqual(JSON.parse(r.ok.fieldErrors), { cron: message });
    const last = seen.at(-1)!;
    assert.equal(last.url, '/api/internal/ext-scheduler/install/22222222-2222-4222-8222-222222222222');
    assert.equal(last.auth, 'runner-token');
    assert.match(last.type!, /application\/json/);
    assert.deepEqual(last.body, { operation: 'create', endpoint: '/echo', cron: '* * *', payload: { a: 1, b: 2 } });
  });

  test('list: 401 → denied, 404 → not-found, 429 → quota-exceeded, 2xx non-JSON → internal', async () => {
    const statuses: [number, string, string][] = [
      [401, '{"error":"Invalid runner token","code":"UNAUTHORIZED","details":null}', 'denied'],
      [404, '{"error":"Install not found","code":"NOT_FOUND","details":null}', 'not-found'],
      [429, '{"error":"Too many requests, please try again later","code":"RATE_LIMITED","details":null}', 'quota-exceeded'],
      [200, 'not json', 'internal'],
      [501, '{"error":"Extension scheduling is only available in the Enterprise Edition.","code":"EE_REQUIRED"}', 'internal'],
    ];
    for (const [status, body, expected] of statuses) {
      answer = () => ({ status, body });
      const [r] = await probe.probe([{ fn: 'scheduler.list-schedules' }]);
      assert.deepEqual(r, { err: expected }, `HTTP ${status}`);
    }
  });

  test('list: a 2xx body is parsed into schedule-info records', async () => {
    answer = () => ({ status: 200, body: '{"schedules":[{"id":"s1","endpointPath":"/echo","endpointMethod":"GET","name":null,"cron":"0 * * * *","timezone":"UTC","enabled":true,"payload":null,"lastRunAt":null,"lastRunStatus":null,"lastError":null,"createdAt":"2026-01-01T00:00:00.000Z"}]}' });
    const [r] = await probe.probe([{ fn: 'scheduler.list-schedules' }]);
    assert.equal(r.ok.length, 1);
    assert.equal(r.ok[0].id, 's1');
    assert.equal(r.ok[0].name, null);
    assert.equal(r.ok[0].createdAt, '2026-01-01T00:00:00.000Z');
  });

  test('no base URL or token configured → internal, nothing sent', async () => {
    const before = seen.length;
    const unconfigured = createHttpSchedulerBackend({ baseUrl: undefined, token: undefined });
    const reply = await unconfigured.call('x', { operation: 'list' });
    assert.equal(reply.status, 500);
    assert.equal(seen.length, before);
    await unconfigured.close();
  });
});
