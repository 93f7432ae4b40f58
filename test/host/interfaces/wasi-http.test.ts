/**
 * The host half of wasi:http's `handle` (src/host/interfaces/wasi-http.ts), called by name as the
 * sandbox bridge calls it, against a real loopback server: http.fetch's egress rules, and each
 * failure as the wasi:http `error-code` the guest's resources hand back. The guest half is
 * test/host/sandbox/wasi-http-resources.test.ts; through a real component, test/host/sandbox/wasi-http.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { lookupImport } from '../../../src/host/import-dispatch.js';
import type { HostServices } from '../../../src/host/interfaces/types.js';
import { OUTGOING_HANDLER, type OutgoingCall } from '../../../src/host/interfaces/wasi-http.js';
import { executionContext } from '../support.js';

let server: Server;
let base: string;
let seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    if (req.url === '/hang') return;
    if (req.url === '/reset') return void req.socket.destroy();
    if (req.url === '/trickle') {
      res.writeHead(200);
      res.write('first');
      return; // then nothing more
    }
    if (req.url === '/big') return void res.end(Buffer.alloc(4096, 1));
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' });
      return void res.end();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(201, { 'x-seen-method': req.method!, 'set-cookie': ['a=1', 'b=2'] });
      res.end(`${req.headers['x-test'] ?? ''}|${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const GRANT = ['cap:http.fetch' as const];
function handle(call: Partial<OutgoingCall> & { url: string }, o: { grant?: boolean; services?: HostServices } = {}) {
  const impl = lookupImport(OUTGOING_HANDLER, 'handle');
  assert.ok(impl, 'the dispatch routes the guest thread\'s wasi:http calls');
  const ctx = executionContext({ grant: o.grant === false ? [] : GRANT, services: o.services });
  return impl.functions.handle!(ctx, [{ method: 'GET', headers: [], ...call }], new AbortController().signal) as Promise<any>;
}

describe('wasi:http/outgoing-handler: the host half', () => {
  test('a request: status, every header value, the body; a redirect is not followed', async () => {
    const out = await handle({ url: `${base}/x`, method: 'POST', headers: [{ name: 'x-test', value: 'hi' }], body: new TextEncoder().encode('payload') });
    assert.equal(out.ok.status, 201);
    assert.equal(new TextDecoder().decode(out.ok.body), 'hi|payload');
    assert.deepEqual(out.ok.headers.filter((h: any) => h.name === 'set-cookie').map((h: any) => h.value), ['a=1', 'b=2']);
    const redirect = await handle({ url: `${base}/redirect` });
    assert.equal(redirect.ok.status, 302);
  });

  test('no cap:http.fetch, or a host not on the allowlist: HTTP-request-denied, nothing sent', async () => {
    seen = [];
    assert.deepEqual(await handle({ url: `${base}/x` }, { grant: false }), { err: { tag: 'HTTP-request-denied' } });
    assert.deepEqual(await handle({ url: `${base}/x` }, { services: { egressAllowlist: ['example.com'] } }), { err: { tag: 'HTTP-request-denied' } });
    assert.deepEqual(seen, []);
  });

  test('metadata and link-local addresses, and loopback under NODE_ENV=production: destination-IP-prohibited', async () => {
    const resolve = async (host: string) => [{ address: host === 'metadata.example.test' ? '169.254.169.254' : host, family: host.includes(':') ? 6 : 4 }];
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/', 'http://[fe80::1]/', 'http://metadata.example.test/']) {
      assert.deepEqual(await handle({ url }, { services: { resolve } }), { err: { tag: 'destination-IP-prohibited' } }, url);
    }
    seen = [];
    assert.deepEqual(await handle({ url: `${base}/x` }, { services: { refuseInternalAddresses: true } }), { err: { tag: 'destination-IP-prohibited' } });
    assert.deepEqual(seen, []);
    assert.equal((await handle({ url: `${base}/x` }, { services: { refuseInternalAddresses: true, egressAllowlist: ['127.0.0.1'] } })).ok.status, 201);
  });

  test('a bad method or scheme; a name that does not resolve; nothing listening', async () => {
    assert.deepEqual(await handle({ url: `${base}/x`, method: 'BREW' }), { err: { tag: 'HTTP-request-method-invalid' } });
    assert.deepEqual(await handle({ url: 'ftp://127.0.0.1/x' }), { err: { tag: 'HTTP-request-URI-invalid' } });
    const resolve = async (host: string): Promise<{ address: string; family: number }[]> => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008 });
    };
    assert.deepEqual(await handle({ url: 'http://nowhere.example.test/' }, { services: { resolve } }), { err: { tag: 'DNS-error', val: { rcode: 'ENOTFOUND', infoCode: 3008 } } });
    assert.deepEqual(await handle({ url: 'http://127.0.0.1:1/' }), { err: { tag: 'connection-refused' } });
  });

  test('a response body over ALGA_FETCH_MAX_BYTES: HTTP-response-body-size; one within it arrives whole', async () => {
    assert.deepEqual(await handle({ url: `${base}/big` }, { services: { maxFetchBytes: 1024 } }), { err: { tag: 'HTTP-response-body-size', val: 1024n } });
    assert.equal((await handle({ url: `${base}/big` }, { services: { maxFetchBytes: 4096 } })).ok.body.length, 4096);
  });

  test('a request body over ALGA_FETCH_MAX_BYTES: HTTP-request-body-size (the bound), nothing sent; one within it is sent', async () => {
    seen = [];
    const body = new Uint8Array(1025).fill(0x61);
    assert.deepEqual(await handle({ url: `${base}/up`, method: 'POST', body }, { services: { maxFetchBytes: 1024 } }), { err: { tag: 'HTTP-request-body-size', val: 1024n } });
    assert.deepEqual(seen, []);
    const sent = await handle({ url: `${base}/up`, method: 'POST', body: body.subarray(0, 1000) }, { services: { maxFetchBytes: 1024 } });
    assert.equal(new TextDecoder().decode(sent.ok.body), `|${'a'.repeat(1000)}`);
  });

  test("the guest's timeouts: first byte (HTTP-response-timeout), between bytes (connection-read-timeout)", async () => {
    assert.deepEqual(await handle({ url: `${base}/hang`, firstByteTimeoutMs: 100 }), { err: { tag: 'HTTP-response-timeout' } });
    assert.deepEqual(await handle({ url: `${base}/trickle`, betweenBytesTimeoutMs: 100 }), { err: { tag: 'connection-read-timeout' } });
  });

  test('the connection closed before an answer: connection-terminated', async () => {
    assert.deepEqual(await handle({ url: `${base}/reset` }), { err: { tag: 'connection-terminated' } });
  });

  test("the execution's signal stops a request in flight", async () => {
    const impl = lookupImport(OUTGOING_HANDLER, 'handle')!;
    const abort = new AbortController();
    const p = impl.functions.handle!(executionContext({ grant: GRANT }), [{ method: 'GET', headers: [], url: `${base}/hang` }], abort.signal) as Promise<any>;
    setTimeout(() => abort.abort(new Error('execution timed out')), 50);
    const out = await p;
    assert.equal(out.err.tag, 'internal-error', JSON.stringify(out));
  });
});
