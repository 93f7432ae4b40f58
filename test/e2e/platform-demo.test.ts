/**
 * The platform demo extension (components/platform-demo, TypeScript on the SDK) end to end, as a
 * developer runs it: `alga-runner dev` in both shapes and `alga-runner exec`, with the example
 * platform data, a secrets file, a loopback webhook (http.fetch) and a loopback UI proxy; it uses
 * clients, services, invoicing, storage, secrets, http.fetch and ui-proxy in one request, and the
 * invoice it writes is read back with `alga-runner invoices list`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestComponent, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
const EXAMPLE = join(projectRoot(), 'examples', 'platform-data.json');
const ACME = '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e01';
const SUPPORT = '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c02'; // Remote Support, 12 000 per hour

/** Each run its own database: storage, invoices and their numbers start empty. */
const dbs: TestDatabase[] = [];
let dir: string;
let server: Server;
let outside: string;
const received: { path: string; headers: Record<string, unknown>; body: any }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alga-demo-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      received.push({ path: req.url!, headers: req.headers, body: text ? JSON.parse(text) : null });
      res.writeHead(req.url!.startsWith('/hook') ? 202 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ noted: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  outside = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ webhook_url: `${outside}/hook`, api_key: 'demo-key' }));
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  for (const db of dbs) await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

interface RunEnv { dataDir: string; databaseUrl: string }
const env = (e: RunEnv) => ({ ...process.env, DATABASE_URL: e.databaseUrl, ALGA_DATA_DIR: e.dataDir, UI_PROXY_BASE_URL: `${outside}/proxy`, EXT_EGRESS_ALLOWLIST: '' });
async function freshRun(name: string): Promise<RunEnv> {
  const db = await createTestDatabase();
  dbs.push(db);
  received.length = 0;
  return { dataDir: join(dir, name), databaseUrl: db.url };
}

function run(args: string[], e: RunEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(e), cwd: projectRoot() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Checks one /api/bill answer and what the loopback servers received for it. */
function checkBill(status: number, body: any, tenant: string) {
  assert.equal(status, 201, JSON.stringify(body));
  assert.match(body.invoice.invoiceNumber, /^INV-\d{6}$/);
  assert.deepEqual([body.invoice.status, body.invoice.subtotal, body.invoice.tax, body.invoice.total], ['draft', 18000, 0, 18000]);
  assert.equal(body.stored.revision !== undefined, true);
  assert.deepEqual(body.webhook, { status: 202 });
  assert.deepEqual(body.activity, { answer: { noted: true } });
  const hook = received.find((r) => r.path === '/hook' && r.body?.invoice?.invoiceNumber === body.invoice.invoiceNumber);
  assert.ok(hook, 'the webhook got the invoice');
  assert.equal(hook!.body.tenant, tenant);
  assert.equal(hook!.body.invoice.clientName, 'Acme Corporation');
  const note = received.find((r) => r.path.startsWith('/proxy/api/activity') && r.body?.invoiceNumber === body.invoice.invoiceNumber);
  assert.ok(note, 'the UI proxy got the activity note');
  assert.equal(note!.headers['x-api-key'], 'demo-key');
  assert.equal(note!.headers['x-alga-tenant'], tenant);
}

const BILL = { clientId: ACME, serviceId: SUPPORT, quantity: 1.5, description: 'Remote support, 90 min' };

describe('platform demo through alga-runner dev', () => {
  for (const shape of [[], ['--split']]) {
    test(`catalog, bill, last invoice over HTTP${shape.length ? ' (split)' : ''}; invoices list reads the invoice back`, { timeout: 600_000 }, async (t) => {
      const e = await freshRun(`dev${shape.length}`);
      const child: ChildProcess = spawn(process.execPath, [CLI, 'dev', 'components/platform-demo', '--port', '0', '--platform-data', EXAMPLE, '--secrets-file', join(dir, 'secrets.json'), ...shape], {
        env: env(e),
        cwd: projectRoot(),
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      try {
        const base = await new Promise<string>((resolve, reject) => {
          const gaveUp = () => reject(new Error(`dev did not start:\n${out}`));
          t.signal.addEventListener('abort', gaveUp, { once: true });
          child.stdout!.on('data', () => {
            const m = /(http:\/\/127\.0\.0\.1:\d+)\/api\/ext\/com\.alga\.sample\.platform-demo\/…/.exec(out);
            if (m) resolve(m[1]!);
          });
          child.on('exit', (code) => reject(new Error(`dev exited with ${code}:\n${out}`)));
        });
        const ext = `${base}/api/ext/com.alga.sample.platform-demo`;
        assert.equal((await fetch(`${ext}/api/last-invoice`)).status, 404);
        const catalog = (await (await fetch(`${ext}/api/catalog`)).json()) as any;
        assert.deepEqual(catalog.clients.map((c: any) => c.name), ['Acme Corporation', 'Globex', 'Jane Doe']);
        assert.ok(catalog.services.some((s: any) => s.id === SUPPORT && s.rate === 12000));
        const billed = await fetch(`${ext}/api/bill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BILL) });
        const body = (await billed.json()) as any;
        checkBill(billed.status, body, 'local');
        const last = (await (await fetch(`${ext}/api/last-invoice`)).json()) as any;
        assert.equal(last.invoice.invoiceNumber, body.invoice.invoiceNumber);
        const unknown = await fetch(`${ext}/api/bill`, { method: 'POST', body: JSON.stringify({ ...BILL, clientId: '9b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e09' }) });
        assert.equal(unknown.status, 404);
        const bad = await fetch(`${ext}/api/bill`, { method: 'POST', body: JSON.stringify({ ...BILL, quantity: 0 }) });
        assert.deepEqual([bad.status, ((await bad.json()) as any).fieldErrors], [422, null]);
        const admin = (await (await fetch(`${base}/api/admin/invoices?tenant=local`)).json()) as any;
        assert.deepEqual(admin.invoices.map((i: any) => i.invoiceNumber), [body.invoice.invoiceNumber]);
        const listed = await run(['invoices', 'list', '--tenant', 'local'], e);
        assert.equal(listed.code, 0, listed.stderr);
        assert.deepEqual(JSON.parse(listed.stdout).invoices.map((i: any) => [i.invoiceNumber, i.total, i.items[0].description]), [[body.invoice.invoiceNumber, 18000, 'Remote support, 90 min']]);
      } finally {
        const exited = new Promise((r) => child.once('exit', (code) => r(code)));
        child.kill('SIGINT');
        assert.equal(await exited, 0);
      }
    });
  }
});

describe('platform demo through alga-runner exec', () => {
  test('one bill: the envelope carries the 201 answer; invoices list shows it for the tenant', { timeout: 600_000 }, async () => {
    const demo = await buildTestComponent('platform-demo');
    const e = await freshRun('exec');
    const r = await run(['exec', '--component', demo.wasmPath, '--manifest', demo.manifestPath, '--tenant', 'exec-tenant', '--platform-data', EXAMPLE,
      '--secrets-file', join(dir, 'secrets.json'), 'POST', '/api/bill', '--body', JSON.stringify(BILL)], e);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const envelope = JSON.parse(r.stdout);
    assert.equal(envelope.status, 201);
    const body = JSON.parse(Buffer.from(envelope.body_b64, 'base64').toString());
    checkBill(envelope.status, body, 'exec-tenant');
    const listed = await run(['invoices', 'list', '--tenant', 'exec-tenant'], e);
    assert.deepEqual(JSON.parse(listed.stdout).invoices.map((i: any) => i.invoiceNumber), [body.invoice.invoiceNumber]);
  });
});
