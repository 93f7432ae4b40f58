/**
 * A guest's global `fetch()` (componentize-js builds it on wasi:http) through the real runner: the
 * fetch-probe component, built from source, against a real loopback HTTP server. It takes
 * http.fetch's egress path (docs/differences.md#egress): capability, allowlist, address rules,
 * response bound; every refusal is an error the guest catches, never a trap.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRunner, type Runner } from '../../../src/host/runner.js';
import type { HostServices } from '../../../src/host/interfaces/types.js';
import type { IsolationMode } from '../../../src/host/sandbox/ready-instances.js';
import { sha256Hex } from '../../../src/shared/content-hash.js';
import { createLogger } from '../../../src/shared/logger.js';
import { buildTestComponent, projectRoot } from '../../support/components.js';
import { forEachSandboxPath, json, SANDBOX_PATHS } from './support.js';
import type { SandboxPath } from '../../../src/config.js';

let server: Server;
let base: string;
/** Requests the server received (path), so a refusal is shown to have sent nothing. */
let seen: string[] = [];
let bytes: Uint8Array;
let contentHash: string;
const runners: Runner[] = [];

before(async () => {
  bytes = new Uint8Array(readFileSync((await buildTestComponent('fetch-probe')).wasmPath));
  contentHash = `sha256:${sha256Hex(bytes)}`;
  server = createServer((req, res) => {
    seen.push(req.url!);
    if (req.url === '/hang') return; // never answers
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(4096, 0x61));
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
      res.writeHead(201, { 'x-seen-method': req.method!, 'x-seen-test': String(req.headers['x-test'] ?? ''), 'content-type': 'text/plain' });
      res.end(`got ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(async () => {
  await Promise.all(runners.map((r) => r.close()));
  server.closeAllConnections();
  server.close();
});

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}
let logs: LogLine[] = [];
const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogLine) });

let sandboxPath: SandboxPath = SANDBOX_PATHS[0]!;
function runner(services: HostServices = {}, isolation?: IsolationMode): Runner {
  const r = createRunner({
    isolation,
    sandboxPath,
    cacheDir: join(projectRoot(), '.alga', 'cache'),
    components: { load: async ({ contentHash: h }) => (h === contentHash ? bytes : null) },
    logger,
    services,
  });
  runners.push(r);
  return r;
}

function execute(r: Runner, spec: object, o: { grant?: boolean; timeoutMs?: number } = {}) {
  return r.execute(
    { 'x-alga-tenant': 'tenant-1', 'x-alga-extension': 'fetch-probe' },
    {
      context: { tenant_id: 'tenant-1', extension_id: 'fetch-probe', install_id: '22222222-2222-4222-8222-222222222222', content_hash: contentHash },
      http: { method: 'POST', path: '/fetch', body_b64: Buffer.from(JSON.stringify(spec)).toString('base64') },
      providers: o.grant === false ? [] : ['cap:http.fetch'],
      limits: o.timeoutMs ? { timeout_ms: o.timeoutMs } : undefined,
    },
  );
}

/** What the guest saw: `{ status, headers, body }` or the `{ error }` it caught. */
async function guestFetch(r: Runner, spec: { url: string; method?: string; headers?: Record<string, string>; body?: string; redirect?: string }, grant = true): Promise<any> {
  const out = await execute(r, spec, { grant });
  assert.equal(out.error, null, `the execution itself must not fail (no trap): ${JSON.stringify(out)}`);
  assert.equal(out.status, 200);
  return json(out);
}

// wasi:http stays on the bridge on both paths (its resources are sync); the glue differs.
forEachSandboxPath((path) => {
  before(() => {
    sandboxPath = path;
  });
  describe('wasi:http: the guest\'s fetch()', () => {
    test('to an allowed loopback server: status, headers and body; a POST body and request headers arrive', async () => {
      const r = runner();
      const got = await guestFetch(r, { url: `${base}/hello?x=1` });
      assert.equal(got.status, 201, JSON.stringify(got));
      assert.equal(got.body, 'got GET /hello?x=1 ');
      assert.ok(got.headers.some(([n, v]: [string, string]) => n === 'x-seen-method' && v === 'GET'));
      const post = await guestFetch(r, { url: `${base}/p`, method: 'POST', headers: { 'x-test': 'hi' }, body: 'payload' });
      assert.equal(post.status, 201);
      assert.equal(post.body, 'got POST /p payload');
      assert.ok(post.headers.some(([n, v]: [string, string]) => n === 'x-seen-test' && v === 'hi'));
    });

    test('every isolation mode: one instance serves request after request, each with its own response', async () => {
      for (const mode of ['snapshot', 'fresh-instance', 'shared-instance'] as const) {
        const r = runner({}, mode);
        for (let i = 0; i < 3; i++) {
          const got = await guestFetch(r, { url: `${base}/n${i}` });
          assert.equal(got.body, `got GET /n${i} `, `${mode} #${i}`);
        }
      }
    });

    test('a redirect is not followed, whatever the guest\'s redirect mode: the guest gets the 3xx and its location', async () => {
      seen = [];
      const got = await guestFetch(runner(), { url: `${base}/redirect` });
      assert.equal(got.status, 302);
      assert.ok(got.headers.some(([n, v]: [string, string]) => n === 'location' && v === '/elsewhere'));
      assert.deepEqual(seen, ['/redirect']);
      // fetch()'s default mode, `follow`: componentize-js does not follow either.
      seen = [];
      assert.equal((await guestFetch(runner(), { url: `${base}/redirect`, redirect: 'follow' })).status, 302);
      assert.deepEqual(seen, ['/redirect']);
    });

    test('without cap:http.fetch: refused (an error the guest catches), nothing sent', async () => {
      seen = [];
      const got = await guestFetch(runner(), { url: `${base}/x` }, false);
      assert.equal(got.error?.name, 'TypeError', JSON.stringify(got));
      assert.deepEqual(seen, []);
    });

    test('a host not on EXT_EGRESS_ALLOWLIST: refused, nothing sent; a listed host is reached', async () => {
      seen = [];
      assert.equal((await guestFetch(runner({ egressAllowlist: ['example.com'] }), { url: `${base}/x` })).error?.name, 'TypeError');
      assert.deepEqual(seen, []);
      assert.equal((await guestFetch(runner({ egressAllowlist: ['127.0.0.1'] }), { url: `${base}/x` })).status, 201);
    });

    test('a cloud-metadata address is refused on the address the name resolves to', async () => {
      logs = [];
      // IP literals resolve to themselves, as the system resolver does; the name to the metadata address.
      const resolve = async (host: string) => [{ address: host === 'metadata.example.test' ? '169.254.169.254' : host, family: host.includes(':') ? 6 : 4 }];
      const r = runner({ resolve });
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/', 'http://metadata.example.test/']) {
        assert.equal((await guestFetch(r, { url })).error?.name, 'TypeError', url);
      }
      const refused = logs.filter((l) => l.msg === 'wasi:http request refused: the address is not reachable for extensions').map((l) => l.host);
      assert.deepEqual(refused, ['169.254.169.254', '[::ffff:a9fe:a9fe]', 'metadata.example.test']);
    });

    test('NODE_ENV=production: loopback is refused unless allowlisted', async () => {
      seen = [];
      assert.equal((await guestFetch(runner({ refuseInternalAddresses: true }), { url: `${base}/x` })).error?.name, 'TypeError');
      assert.deepEqual(seen, []);
      assert.equal((await guestFetch(runner({ refuseInternalAddresses: true, egressAllowlist: ['127.0.0.1'] }), { url: `${base}/x` })).status, 201);
    });

    test('a response body over ALGA_FETCH_MAX_BYTES is refused; one within it arrives whole', async () => {
      assert.equal((await guestFetch(runner({ maxFetchBytes: 1024 }), { url: `${base}/big` })).error?.name, 'TypeError');
      const roomy = await guestFetch(runner({ maxFetchBytes: 8192 }), { url: `${base}/big` });
      assert.equal(roomy.status, 200);
      assert.equal(roomy.body, 'a'.repeat(4096));
    });

    test('a request body over ALGA_FETCH_MAX_BYTES is refused (an error the guest catches), nothing sent; one within it arrives', async () => {
      seen = [];
      const r = runner({ maxFetchBytes: 1024 });
      const over = await guestFetch(r, { url: `${base}/up`, method: 'POST', body: 'x'.repeat(4096) });
      assert.equal(over.error?.name, 'TypeError', JSON.stringify(over));
      assert.deepEqual(seen, []);
      const within = await guestFetch(r, { url: `${base}/up`, method: 'POST', body: 'y'.repeat(1000) });
      assert.equal(within.body, `got POST /up ${'y'.repeat(1000)}`);
    });

    test('nothing listening, or a name that does not resolve: an error the guest catches', async () => {
      const r = runner();
      assert.equal((await guestFetch(r, { url: 'http://127.0.0.1:1/' })).error?.name, 'TypeError');
      assert.equal((await guestFetch(r, { url: 'http://nowhere.invalid/' })).error?.name, 'TypeError');
    });

    test("the execution's deadline stops a request in flight", async () => {
      const out = await execute(runner(), { url: `${base}/hang` }, { timeoutMs: 300 });
      assert.match(String(out.error), /timeout: execution exceeded 300 ms/);
    });
  });
});
