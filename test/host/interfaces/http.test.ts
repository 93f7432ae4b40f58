import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { addressPermitted, classifyAddress, unmapIpv4 } from '../../../src/host/egress/addresses.js';
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
      res.writeHead(201, { 'x-seen-method': req.method!, 'x-seen-host': req.headers.host ?? '', 'content-type': 'text/plain' });
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

describe('http.fetch: address rules (docs/differences.md#egress)', () => {
  const G = ['cap:http.fetch' as const];
  /** A resolver that records every lookup and answers from a table. */
  function resolver(table: Record<string, string>) {
    const asked: string[] = [];
    return {
      asked,
      resolve: async (host: string) => {
        asked.push(host);
        const a = table[host];
        if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        return [{ address: a, family: a.includes(':') ? 6 : 4 }];
      },
    };
  }
  const port = () => new URL(base).port;

  test('link-local and cloud-metadata addresses are not-allowed, in every spelling, even with an empty allowlist', async () => {
    const ctx = executionContext({ grant: G });
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://169.254.0.1/', 'http://[fe80::1]/', 'http://[febf::1]/', 'http://[fd00:ec2::254]/',
      'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/', 'http://[0:0:0:0:0:ffff:169.254.1.1]/']) {
      assert.deepEqual(await callHost(ctx, H, 'fetch', req(url)), { err: 'not-allowed' }, url);
    }
  });

  test('the check is on the address the name resolves to, resolved once, and the connection goes to that address', async () => {
    const meta = resolver({ 'metadata.internal.test': '169.254.169.254' });
    assert.deepEqual(await callHost(executionContext({ grant: G, services: { resolve: meta.resolve } }), H, 'fetch', req('http://metadata.internal.test/')), { err: 'not-allowed' });
    assert.deepEqual(meta.asked, ['metadata.internal.test']);
    // A name no real DNS knows reaches our loopback server: the connection used the checked address.
    const svc = resolver({ 'svc.example.test': '127.0.0.1' });
    const out = (await callHost(executionContext({ grant: G, services: { resolve: svc.resolve } }), H, 'fetch', req(`http://svc.example.test:${port()}/x`))) as any;
    assert.equal(out.ok.status, 201);
    assert.ok(out.ok.headers.some((h: any) => h.name === 'x-seen-host' && h.value === `svc.example.test:${port()}`));
    assert.deepEqual(svc.asked, ['svc.example.test'], 'one lookup: nothing can re-resolve between the check and the connection');
    const missing = resolver({});
    assert.deepEqual(await callHost(executionContext({ grant: G, services: { resolve: missing.resolve } }), H, 'fetch', req('http://nowhere.test/')), { err: 'transport' });
  });

  test('each request resolves and checks again; a pooled keep-alive connection to the checked address is reused', async () => {
    let connections = 0;
    const count = () => connections++;
    server.on('connection', count);
    try {
      const svc = resolver({ 'pooled.example.test': '127.0.0.1' });
      const ctx = executionContext({ grant: G, services: { resolve: svc.resolve } });
      for (let i = 0; i < 6; i++) assert.equal(((await callHost(ctx, H, 'fetch', req(`http://pooled.example.test:${port()}/x`))) as any).ok.status, 201);
      assert.deepEqual(svc.asked, Array(6).fill('pooled.example.test'));
      // undici may open a second socket while the first is being released; never one per request.
      assert.ok(connections <= 2, `${connections} connections for 6 requests`);
    } finally {
      server.off('connection', count);
    }
  });

  test('an allowlisted host may reach any address', async () => {
    const svc = resolver({ 'svc.example.test': '127.0.0.1', 'meta.example.test': '169.254.169.254' });
    const ctx = executionContext({ grant: G, services: { resolve: svc.resolve, egressAllowlist: ['svc.example.test'], refuseInternalAddresses: true } });
    assert.equal(((await callHost(ctx, H, 'fetch', req(`http://svc.example.test:${port()}/x`))) as any).ok.status, 201);
    assert.deepEqual(await callHost(ctx, H, 'fetch', req('http://meta.example.test/')), { err: 'not-allowed' }, 'not on the list');
  });

  test('NODE_ENV=production: loopback and private addresses are refused unless allowlisted; otherwise they are reachable', async () => {
    const prod = executionContext({ grant: G, services: { refuseInternalAddresses: true } });
    assert.deepEqual(await callHost(prod, H, 'fetch', req(`${base}/x`)), { err: 'not-allowed' });
    assert.deepEqual(await callHost(prod, H, 'fetch', req(`http://[::ffff:127.0.0.1]:${port()}/x`)), { err: 'not-allowed' });
    const listed = executionContext({ grant: G, services: { refuseInternalAddresses: true, egressAllowlist: ['127.0.0.1'] } });
    assert.equal(((await callHost(listed, H, 'fetch', req(`${base}/x`))) as any).ok.status, 201);
    assert.equal(((await callHost(executionContext({ grant: G }), H, 'fetch', req(`${base}/x`))) as any).ok.status, 201);
  });

  test('address classes', () => {
    assert.deepEqual(unmapIpv4('::ffff:a9fe:a9fe'), { address: '169.254.169.254', family: 'ipv4' });
    assert.deepEqual(unmapIpv4('[::FFFF:10.0.0.1]'), { address: '10.0.0.1', family: 'ipv4' });
    for (const a of ['169.254.169.254', 'fe80::abcd', 'fd00:ec2::254', '::ffff:169.254.0.9']) assert.equal(classifyAddress(a), 'metadata', a);
    for (const a of ['127.0.0.1', '::1', '10.1.2.3', '172.31.0.1', '192.168.1.1', 'fd12::1', '0.0.0.0', '::', '100.64.0.1', 'fd00:ec2::253']) assert.equal(classifyAddress(a), 'internal', a);
    for (const a of ['93.184.216.34', '2606:2800:220:1::1', '172.32.0.1', '2a00:1450:4001::1']) assert.equal(classifyAddress(a), 'allowed', a);
    assert.equal(addressPermitted('127.0.0.1', { refuseInternal: false }), true);
    assert.equal(addressPermitted('127.0.0.1', { refuseInternal: true }), false);
    assert.equal(addressPermitted('169.254.169.254', { refuseInternal: false }), false);
  });
});
