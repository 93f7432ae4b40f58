/** `POST /v1/execute` and `GET /healthz` over real HTTP: every status and error path (docs/production-contract.md#execute). */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { runnerRoutes } from '../../../src/host/http/runner-service.js';
import { createHttpServer, listen } from '../../../src/shared/http-server.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { projectRoot } from '../../support/components.js';
import { startProbeRunner, type ProbeRunner } from './probe-runner.js';

let probe: ProbeRunner;
let open: Server;
let keyed: Server;
let openUrl: string;
let keyedUrl: string;
const KEY = 'runner-api-key-1';

before(async () => {
  probe = await startProbeRunner();
  const cacheDir = join(projectRoot(), '.alga', 'cache');
  open = createHttpServer(runnerRoutes({ runner: probe.runner, cacheDir, bodyLimit: 64 * 1024 }), silentLogger);
  keyed = createHttpServer(runnerRoutes({ runner: probe.runner, cacheDir, apiKey: KEY }), silentLogger);
  openUrl = `http://127.0.0.1:${await listen(open, 0, '127.0.0.1')}`;
  keyedUrl = `http://127.0.0.1:${await listen(keyed, 0, '127.0.0.1')}`;
});
after(async () => {
  open?.close();
  keyed?.close();
  await probe?.runner.close();
});

function envelope(over: { http?: Record<string, unknown>; context?: Record<string, unknown>; [k: string]: unknown } = {}) {
  const { http, context, ...rest } = over;
  return {
    context: { tenant_id: 't1', extension_id: 'e1', install_id: 'i1', content_hash: probe.contentHash, ...context },
    http: { method: 'GET', path: '/counter', ...http },
    ...rest,
  };
}

async function post(body: unknown, o: { url?: string; headers?: Record<string, string>; raw?: string } = {}) {
  const res = await request(`${o.url ?? openUrl}/v1/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-alga-tenant': 't1', 'x-alga-extension': 'e1', ...o.headers },
    body: o.raw ?? JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json, type: String(res.headers['content-type']) };
}

const guestBody = (r: { json: any }) => JSON.parse(Buffer.from(r.json.body_b64, 'base64').toString('utf8'));

describe('/v1/execute: body rejections answer as production\'s framework (plain text)', () => {
  test('no JSON content type → 415', async () => {
    const r = await post(envelope(), { headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 415);
    assert.match(r.type, /text\/plain/);
  });

  test('malformed JSON → 400', async () => {
    const r = await post(undefined, { raw: '{"context":' });
    assert.equal(r.status, 400);
    assert.match(r.text, /^Failed to parse the request body as JSON/);
  });

  test('missing or mistyped fields → 422', async () => {
    const missing = await post({ http: { method: 'GET', path: '/' } });
    assert.equal(missing.status, 422);
    assert.match(missing.text, /context/);
    const mistyped = await post(envelope({ context: { config: { a: 1 } } }));
    assert.equal(mistyped.status, 422);
    assert.match(mistyped.text, /config/);
  });

  test('a body over the limit → 413 with an envelope naming the limit', async () => {
    const r = await post(envelope({ http: { body_b64: 'A'.repeat(70 * 1024) } }));
    assert.equal(r.status, 413);
    assert.match(r.json.error, /^payload_too_large: request body exceeds 65536 bytes$/);
  });
});

describe('/v1/execute: execution outcomes are HTTP 200 with the envelope', () => {
  test('success: all four keys, guest status, headers and base64 body', async () => {
    const r = await post(envelope());
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['body_b64', 'error', 'headers', 'status']);
    assert.equal(r.json.status, 200);
    assert.equal(r.json.error, null);
    assert.match(r.json.headers['content-type'], /json/);
    assert.equal(guestBody(r).counter, 1);
  });

  test('missing routing headers → 400 missing_routing_headers', async () => {
    for (const headers of [{ 'x-alga-tenant': '' }, { 'x-alga-extension': '  ' }] as Record<string, string>[]) {
      const r = await post(envelope(), { headers });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: 400, headers: {}, body_b64: null, error: 'missing_routing_headers' });
    }
  });

  test('unknown capabilities → 400 unknown_capabilities listing them (after normalization)', async () => {
    const r = await post(envelope({ providers: [' CAP:Scheduler.Manage ', 'cap:nope', '', 'cap:also.nope'] }));
    assert.deepEqual(r.json, { status: 400, headers: {}, body_b64: null, error: 'unknown_capabilities: cap:nope, cap:also.nope' });
  });

  test('an unknown content hash → 502 bundle_fetch_failed', async () => {
    const r = await post(envelope({ context: { content_hash: `sha256:${'0'.repeat(64)}` } }));
    assert.equal(r.json.status, 502);
    assert.match(r.json.error, /^bundle_fetch_failed: /);
  });

  test('invalid body base64 → 400 execute_failed: invalid body base64 (production\'s string, a client status)', async () => {
    const r = await post(envelope({ http: { method: 'POST', path: '/echo', body_b64: 'not base64!' } }));
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 400);
    assert.match(r.json.error, /^execute_failed: invalid body base64/);
  });

  test('an invalid content hash → 400 bundle_fetch_failed, quoting a short excerpt only', async () => {
    for (const content_hash of ['sha256:xyz', 'not-a-hash', `sha256:${'0'.repeat(63)}`, 'Z'.repeat(50_000)]) {
      const r = await post(envelope({ context: { content_hash } }));
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 400, content_hash.slice(0, 80));
      assert.match(r.json.error, /^bundle_fetch_failed: invalid content hash "/);
      assert.ok(r.json.error.length < 120, `error of ${r.json.error.length} chars`);
    }
  });

  test('memory_mb below the component\'s minimum → 400 execute_failed', async () => {
    const r = await post(envelope({ limits: { memory_mb: 1 } }));
    assert.equal(r.json.status, 400);
    assert.match(r.json.error, /^execute_failed: memory limit 1 MB is below the component's initial memory of \d+ MB$/);
    assert.equal((await post(envelope())).json.status, 200, 'the next request runs');
  });

  test('many long unknown capabilities: the error quotes a short excerpt', async () => {
    const providers = Array.from({ length: 10 }, (_, i) => `cap:${String(i).padStart(3, '0')}${'x'.repeat(5_000)}`);
    const r = await post(envelope({ providers }));
    assert.equal(r.json.status, 400);
    assert.match(r.json.error, /^unknown_capabilities: cap:000x+…, /);
    assert.match(r.json.error, /\(10 in all\)$/);
    assert.ok(r.json.error.length < 500, `error of ${r.json.error.length} chars`);
  });

  test('a secret envelope that cannot be decrypted keeps production\'s 500 secret_decrypt_failed', async () => {
    const r = await post(envelope({ secret_envelope: { ciphertext_b64: Buffer.from('not json').toString('base64') } }));
    assert.deepEqual(r.json, { status: 500, headers: {}, body_b64: null, error: 'secret_decrypt_failed' });
  });

  test('a guest trap → 500 execute_failed, and the next execution succeeds', async () => {
    const r = await post(envelope({ http: { method: 'POST', path: '/trap' } }));
    assert.equal(r.json.status, 500);
    assert.match(r.json.error, /^execute_failed: /);
    assert.equal((await post(envelope())).json.status, 200);
  });

  test('limits.timeout_ms stops a guest that never returns', async () => {
    const r = await post(envelope({ http: { method: 'POST', path: '/loop' }, limits: { timeout_ms: 300 } }));
    assert.equal(r.json.status, 500);
    assert.match(r.json.error, /^execute_failed: .*tim/i);
    assert.equal((await post(envelope())).json.status, 200);
  });

  test('the guest sees path + form-urlencoded query, the headers and body it was sent', async () => {
    const r = await post(envelope({ http: { method: 'POST', path: '/echo', query: { q: 'a b', x: '1' }, headers: { 'x-test': 'yes' }, body_b64: Buffer.from('{"hello":1}').toString('base64') } }));
    const g = guestBody(r);
    assert.equal(g.url, '/echo?q=a+b&x=1');
    assert.equal(g.method, 'POST');
    assert.equal(g.body, '{"hello":1}');
    assert.ok(JSON.stringify(g.headers).includes('x-test'));
  });
});

describe('/v1/execute: idempotency (differences.md#idempotency)', () => {
  test('the same key from the same tenant returns the first response; another tenant runs afresh', async () => {
    const key = { 'x-idempotency-key': `k-${Date.now()}` };
    const first = await post(envelope({ http: { path: '/time' } }), { headers: key });
    const again = await post(envelope({ http: { path: '/time' } }), { headers: key });
    assert.deepEqual(again.json, first.json);
    const other = await post(envelope({ http: { path: '/time' } }), { headers: { ...key, 'x-alga-tenant': 't2' } });
    assert.notEqual(guestBody(other).random, guestBody(first).random);
  });

  test('a key reused for another path, method or install runs that request (never another\'s answer)', async () => {
    const key = { 'x-idempotency-key': `heartbeat-${Date.now()}` };
    const heartbeat = await post(envelope({ http: { path: '/time' } }), { headers: key });
    assert.equal(heartbeat.json.status, 200);
    const setup = await post(envelope({ http: { method: 'POST', path: '/echo', body_b64: Buffer.from('setup').toString('base64') } }), { headers: key });
    assert.equal(guestBody(setup).body, 'setup', 'the setup call ran');
    const otherInstall = await post(envelope({ http: { path: '/time' }, context: { install_id: 'i2' } }), { headers: key });
    assert.notEqual(guestBody(otherInstall).random, guestBody(heartbeat).random);
  });

  test('a key reused with a different body or query → 422, nothing runs', async () => {
    const key = { 'x-idempotency-key': `body-${Date.now()}` };
    const echo = (body: string, query: Record<string, string> = {}) => envelope({ http: { method: 'POST', path: '/echo', query, body_b64: Buffer.from(body).toString('base64') } });
    const first = await post(echo('one'), { headers: key });
    assert.equal(guestBody(first).body, 'one');
    const other = await post(echo('two'), { headers: key });
    assert.equal(other.json.status, 422);
    assert.match(other.json.error, /^idempotency_key_reused: /);
    assert.equal((await post(echo('one', { a: '1' }), { headers: key })).json.status, 422);
    assert.deepEqual((await post(echo('one'), { headers: key })).json, first.json, 'the same request still replays');
  });

  test('a second request while the first with its key still runs → 409; the guest ran once', async () => {
    // The guest's http.fetch is held by this server until the second request has been answered.
    let fetches = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const firstReached = new Promise<void>((r) => (reached = r));
    const upstream = createServer((_req, res) => {
      fetches += 1;
      reached();
      void held.then(() => res.end('done'));
    });
    const port = await listen(upstream, 0, '127.0.0.1');
    try {
      const key = { 'x-idempotency-key': `inflight-${Date.now()}` };
      const calls = [{ fn: 'http.fetch', args: [{ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: [], body: null }] }];
      const body = envelope({ http: { method: 'POST', path: '/probe', body_b64: Buffer.from(JSON.stringify({ calls })).toString('base64') }, providers: ['cap:http.fetch'] });
      const first = post(body, { headers: key });
      await firstReached;
      const second = await post(body, { headers: key });
      assert.equal(second.json.status, 409);
      assert.match(second.json.error, /^idempotency_key_in_use: /);
      release();
      const done = await first;
      assert.equal(done.json.status, 200, done.text);
      const replay = await post(body, { headers: key });
      assert.deepEqual(replay.json, done.json);
      assert.equal(fetches, 1, 'the guest ran once');
    } finally {
      release();
      upstream.closeAllConnections();
      upstream.close();
    }
  });
});

describe('/v1/execute: API key (differences.md#execute-key)', () => {
  test('missing or wrong key → 401; the right key, as a header or a bearer token, runs', async () => {
    assert.equal((await post(envelope(), { url: keyedUrl })).status, 401);
    assert.equal((await post(envelope(), { url: keyedUrl, headers: { 'x-runner-service-token': 'wrong' } })).status, 401);
    const ok1 = await post(envelope(), { url: keyedUrl, headers: { 'x-runner-service-token': KEY } });
    const ok2 = await post(envelope(), { url: keyedUrl, headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(ok1.json.status, 200);
    assert.equal(ok2.json.status, 200);
  });

  test('only the documented forms: a bare or differently-schemed authorization header → 401', async () => {
    for (const authorization of [KEY, `Basic ${KEY}`, `Bearer${KEY}`, `Bearer ${KEY} extra`, `Token ${KEY}`]) {
      assert.equal((await post(envelope(), { url: keyedUrl, headers: { authorization } })).status, 401, authorization);
    }
  });
});

test('/healthz: 200 with production\'s keys when the cache is writable', async () => {
  const res = await request(`${openUrl}/healthz`);
  assert.equal(res.statusCode, 200);
  const body = (await res.body.json()) as Record<string, unknown>;
  assert.equal(body.cache_writable, true);
  assert.ok('bundle_store' in body && 'ext_cache_max_bytes' in body);
});
