import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { egressAllowed } from '../../../src/host/interfaces/http.js';
import { callHost, executionContext } from '../support.js';

const H = 'alga:extension/http';
let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200);
      res.end(Buffer.alloc(4096, 1));
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(201, { 'x-seen-method': req.method!, 'content-type': 'text/plain' });
      res.end(`${req.headers['x-test'] ?? ''}|${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

const req = (url: string, method = 'GET', body?: string) => ({ method, url, headers: [{ name: 'x-test', value: 'hi' }], body: body ? new TextEncoder().encode(body) : undefined });

describe('http.fetch', () => {
  test('not-allowed without cap:http.fetch', async () => {
    assert.deepEqual(await callHost(executionContext(), H, 'fetch', req(`${base}/x`)), { err: 'not-allowed' });
  });

  test('a real request: status, headers, body', async () => {
    const out = (await callHost(executionContext({ grant: ['cap:http.fetch'] }), H, 'fetch', req(`${base}/x`, 'POST', 'payload'))) as { ok: { status: number; headers: { name: string; value: string }[]; body: Uint8Array } };
    assert.equal(out.ok.status, 201);
    assert.ok(out.ok.headers.some((h) => h.name === 'x-seen-method' && h.value === 'POST'));
    assert.equal(new TextDecoder().decode(out.ok.body), 'hi|payload');
  });

  test('redirects are not followed', async () => {
    const out = (await callHost(executionContext({ grant: ['cap:http.fetch'] }), H, 'fetch', req(`${base}/redirect`))) as { ok: { status: number } };
    assert.equal(out.ok.status, 302);
  });

  test('invalid-url for a bad URL, scheme or method; not-allowed outside the allowlist; transport when nothing listens', async () => {
    const ctx = executionContext({ grant: ['cap:http.fetch'] });
    assert.deepEqual(await callHost(ctx, H, 'fetch', req('not a url')), { err: 'invalid-url' });
    assert.deepEqual(await callHost(ctx, H, 'fetch', req('ftp://127.0.0.1/x')), { err: 'invalid-url' });
    assert.deepEqual(await callHost(ctx, H, 'fetch', req(`${base}/x`, 'BREW')), { err: 'invalid-url' });
    const listed = executionContext({ grant: ['cap:http.fetch'], services: { egressAllowlist: ['example.com'] } });
    assert.deepEqual(await callHost(listed, H, 'fetch', req(`${base}/x`)), { err: 'not-allowed' });
    assert.deepEqual(await callHost(ctx, H, 'fetch', req('http://127.0.0.1:1/x')), { err: 'transport' });
  });

  test('a response body past the cap is refused with internal, not buffered whole', async () => {
    const small = executionContext({ grant: ['cap:http.fetch'], services: { maxFetchBytes: 1024 } });
    assert.deepEqual(await callHost(small, H, 'fetch', req(`${base}/big`)), { err: 'internal' });
    const roomy = (await callHost(executionContext({ grant: ['cap:http.fetch'], services: { maxFetchBytes: 8192 } }), H, 'fetch', req(`${base}/big`))) as { ok: { body: Uint8Array } };
    assert.equal(roomy.ok.body.length, 4096);
  });

  test('allowlist: exact host or a subdomain; an empty list allows all', () => {
    assert.equal(egressAllowed('api.example.com', ['example.com']), true);
    assert.equal(egressAllowed('example.com', ['example.com']), true);
    assert.equal(egressAllowed('badexample.com', ['example.com']), false);
    assert.equal(egressAllowed('anything', []), true);
  });
});
