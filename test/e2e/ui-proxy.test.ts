/**
 * ui-proxy through a component (the probe), over the gateway, in both shapes, against a loopback UI
 * proxy: the install's `api_key` secret travels as `x-api-key`, the split runner gets the platform's
 * UI_PROXY_BASE_URL, and the answer's bytes (or the mapped status) reach the guest.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { writeInstallSecrets } from '../../src/server/secrets/install-secrets.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let proxy: Server;
let base: string;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

before(async () => {
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url!.endsWith('/missing')) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/ui-proxy`;
});
after(async () => {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
});

const text = (r: { ok?: { $bytes: string } }) => Buffer.from(r.ok!.$bytes, 'base64').toString();

for (const shape of ['in-process', 'split'] as const) describe(`ui-proxy, ${shape}`, () => {
  let tp: TestPlatform;
  let installId: string;
  let registryId: string;
  before(async () => {
    tp = await startTestPlatform({ shape, config: loadConfig({ ...process.env, UI_PROXY_BASE_URL: base, UI_PROXY_TIMEOUT_MS: '5000' }) });
    ({ installId, registryId } = await tp.install('scheduler-probe'));
    await writeInstallSecrets(tp.platform.pool, { installId, tenantId: tp.platform.tenantId }, { api_key: 'proxy-key-1' });
  });
  after(async () => tp?.stop());

  test('GET and POST reach the proxy with production\'s URL and headers; 404 is route-not-found', async () => {
    seen.length = 0;
    const r = await tp.probe([
      { fn: 'ui-proxy.call-route', args: ['/tickets/open?limit=5', null] },
      { fn: 'ui-proxy.call-route', args: ['/api/v1/notes', { $bytes: Buffer.from('{"n":1}').toString('base64') }] },
      { fn: 'ui-proxy.call-route', args: ['/missing', null] },
    ]);
    assert.equal(JSON.parse(text(r[0])).echoed, '');
    assert.equal(JSON.parse(text(r[1])).echoed, '{"n":1}');
    assert.deepEqual(r[2], { err: 'route-not-found' });
    assert.deepEqual(seen.map((s) => [s.method, s.url]), [
      ['GET', `/ui-proxy/${registryId}/tickets/open?limit=5`],
      ['POST', '/ui-proxy/api/v1/notes'],
      ['GET', `/ui-proxy/${registryId}/missing`],
    ]);
    for (const s of seen) {
      assert.equal(s.headers['x-api-key'], 'proxy-key-1');
      assert.equal(s.headers['x-alga-tenant'], tp.platform.tenantId);
      assert.equal(s.headers['x-alga-extension'], registryId);
      assert.equal(s.headers['x-ext-install-id'], installId);
      assert.match(String(s.headers['x-ext-version-id']), /^[0-9a-f-]{36}$/);
      assert.match(String(s.headers['x-request-id']), /./);
    }
    assert.equal(seen[1]!.headers['content-type'], 'application/json');
  });
});
