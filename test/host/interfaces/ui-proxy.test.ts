/** ui-proxy.call-route against a loopback HTTP server: production's URL, method, headers, timeout and
 * status mapping (docs/production-contract.md#ui-proxy). */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { proxyUrl } from '../../../src/host/interfaces/ui-proxy.js';
import { callHost, executionContext } from '../support.js';

const P = 'alga:extension/ui-proxy';
interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }
let server: Server;
let base: string;
let seen: Seen[] = [];
/** path → how to answer */
const answers = new Map<string, { status: number; body?: string; hang?: boolean }>();

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const a = answers.get(req.url!.split('?')[0]!) ?? { status: 200, body: 'ok' };
      if (a.hang) return; // never answers: the caller's timeout must end it
      res.writeHead(a.status, a.status >= 300 && a.status < 400 ? { location: '/elsewhere' } : {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const G = ['cap:ui.proxy' as const];
const ctx = (o: Parameters<typeof executionContext>[0] = {}, proxy: { baseUrl?: string; timeoutMs?: number } = { baseUrl: `${base}/proxy/` }) =>
  executionContext({ grant: G, ...o, services: { uiProxy: proxy, ...o.services } });
const user = { tenantId: 'tenant-1', userId: 'u-7', userEmail: 'dana@example.com', userName: 'Dana', userType: 'internal', clientName: '', additionalFields: {} };

describe('ui-proxy: the URL', () => {
  test('base path, then the extension id unless the route starts with /api/; segments encoded; the query kept', () => {
    const b = new URL('http://proxy.local:81/ui/');
    assert.deepEqual(proxyUrl(b, 'ext-1', '/items/a b'), { url: 'http://proxy.local:81/ui/ext-1/items/a%20b' });
    assert.deepEqual(proxyUrl(b, 'ext-1', 'items//x/?q=1 2&r=é'), { url: 'http://proxy.local:81/ui/ext-1/items/x?q=1%202&r=%C3%A9' });
    assert.deepEqual(proxyUrl(b, 'ext-1', '/api/v1/tickets'), { url: 'http://proxy.local:81/ui/api/v1/tickets' });
    assert.deepEqual(proxyUrl(b, 'ext-1', 'api/v1'), { url: 'http://proxy.local:81/ui/api/v1' });
    assert.deepEqual(proxyUrl(new URL('http://h'), 'e', '/x?'), { url: 'http://h/e/x' });
    assert.deepEqual(proxyUrl(new URL('http://h/base'), 'e', 'a%2Fb#c{d}'), { url: 'http://h/base/e/a%252Fb%23c%7Bd%7D' });
    assert.deepEqual(proxyUrl(new URL('http://h/'), 'e', ' /x '), { url: 'http://h/e/x' });
    for (const r of ['', '   ', '/a/../b', './x', '/a/.']) assert.deepEqual(proxyUrl(b, 'e', r), { refused: 'bad-request' }, r);
  });
});

describe('ui-proxy: the call', () => {
  test('GET without a payload, with the context, install, user and api_key headers; the answer\'s bytes', async () => {
    seen = [];
    answers.set('/proxy/ext-1/status', { status: 200, body: '{"up":true}' });
    const r = await callHost(ctx({ user, secrets: { api_key: 'k-123', other: 'x' } }), P, 'callRoute', '/status?verbose=1', undefined);
    assert.deepEqual(r, { ok: new Uint8Array(Buffer.from('{"up":true}')) });
    assert.equal(seen.length, 1);
    const s = seen[0]!;
    assert.equal(s.method, 'GET');
    assert.equal(s.url, '/proxy/ext-1/status?verbose=1');
    assert.equal(s.body, '');
    assert.equal(s.headers['x-request-id'], 'req-1');
    assert.equal(s.headers['x-alga-tenant'], 'tenant-1');
    assert.equal(s.headers['x-alga-extension'], 'ext-1');
    assert.equal(s.headers['x-ext-install-id'], '11111111-1111-4111-8111-111111111111');
    assert.equal(s.headers['x-ext-version-id'], 'ver-1');
    assert.equal(s.headers['x-api-key'], 'k-123');
    assert.equal(s.headers['x-user-id'], 'u-7');
    assert.equal(s.headers['x-user-email'], 'dana@example.com');
    assert.equal(s.headers['content-type'], undefined);
  });

  test('POST with a payload (even empty) and content-type json; no api_key, user or install → no such headers', async () => {
    seen = [];
    const c = ctx({ installId: null });
    c.context.versionId = undefined;
    await callHost(c, P, 'callRoute', '/api/things', new Uint8Array(Buffer.from('{"a":1}')));
    await callHost(c, P, 'callRoute', '/api/things', new Uint8Array());
    assert.deepEqual(seen.map((s) => [s.method, s.url, s.body, s.headers['content-type']]), [
      ['POST', '/proxy/api/things', '{"a":1}', 'application/json'],
      ['POST', '/proxy/api/things', '', 'application/json'],
    ]);
    for (const h of ['x-api-key', 'x-user-id', 'x-user-email', 'x-ext-install-id', 'x-ext-version-id']) assert.equal(seen[0]!.headers[h], undefined, h);
  });

  test('statuses: 2xx bytes; 401/403/429 denied; 404 route-not-found; other 4xx bad-request; 3xx and 5xx internal', async () => {
    const cases: [number, unknown][] = [
      [201, { ok: new Uint8Array(Buffer.from('made')) }], [204, { ok: new Uint8Array() }],
      [401, { err: 'denied' }], [403, { err: 'denied' }], [429, { err: 'denied' }], [404, { err: 'route-not-found' }],
      [400, { err: 'bad-request' }], [409, { err: 'bad-request' }], [422, { err: 'bad-request' }],
      [302, { err: 'internal' }], [500, { err: 'internal' }], [503, { err: 'internal' }],
    ];
    for (const [status, expected] of cases) {
      answers.set(`/proxy/ext-1/s${status}`, { status, body: status === 204 ? '' : status === 201 ? 'made' : 'x' });
      assert.deepEqual(await callHost(ctx(), P, 'callRoute', `/s${status}`, undefined), expected, String(status));
    }
  });

  test('the timeout (UI_PROXY_TIMEOUT_MS) and a refused connection are internal', async () => {
    answers.set('/proxy/ext-1/slow', { status: 200, hang: true });
    assert.deepEqual(await callHost(ctx({}, { baseUrl: `${base}/proxy`, timeoutMs: 50 }), P, 'callRoute', '/slow', undefined), { err: 'internal' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    assert.deepEqual(await callHost(ctx({}, { baseUrl: `http://127.0.0.1:${port}/` }), P, 'callRoute', '/x', undefined), { err: 'internal' });
  });

  test('refusals in production\'s order: capability, base URL, tenant/extension, route', async () => {
    seen = [];
    assert.deepEqual(await callHost(executionContext({ services: { uiProxy: { baseUrl: base } } }), P, 'callRoute', '', undefined), { err: 'denied' });
    assert.deepEqual(await callHost(ctx({}, {}), P, 'callRoute', '', undefined), { err: 'route-not-found' });
    assert.deepEqual(await callHost(ctx({}, { baseUrl: 'not a url' }), P, 'callRoute', '/x', undefined), { err: 'route-not-found' });
    const noTenant = ctx();
    noTenant.context.tenantId = '';
    assert.deepEqual(await callHost(noTenant, P, 'callRoute', '', undefined), { err: 'internal' });
    assert.deepEqual(await callHost(ctx(), P, 'callRoute', ' ', undefined), { err: 'bad-request' });
    assert.deepEqual(await callHost(ctx(), P, 'callRoute', '/a/../b', undefined), { err: 'bad-request' });
    assert.equal(seen.length, 0);
  });
});
