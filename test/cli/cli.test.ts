/** The `alga-runner` command as a user runs it: a real process, real Postgres, real HTTP. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestComponent, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
let db: TestDatabase;
let dataDir: string;
let probe: { wasmPath: string; manifestPath: string };

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-cli-'));
  probe = await buildTestComponent('scheduler-probe');
  // dev builds the sample into <data dir>/cache/components, keyed by the same build hash as the
  // shared test cache: put the shared build there, so starting dev is not a componentize run (which
  // a loaded machine stretched past any start-up bound).
  const demo = await buildTestComponent('scheduler-demo');
  mkdirSync(join(dataDir, 'cache', 'components'), { recursive: true });
  copyFileSync(demo.wasmPath, join(dataDir, 'cache', 'components', basename(demo.wasmPath)));
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: dataDir, ...env },
      cwd: projectRoot(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('alga-runner exec', () => {
  test('prints production\'s response envelope and exits 0', async () => {
    const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, 'GET', '/counter']);
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(env).sort(), ['body_b64', 'error', 'headers', 'status']);
    assert.equal(env.status, 200);
    assert.deepEqual(JSON.parse(Buffer.from(env.body_b64, 'base64').toString()), { counter: 1 });
  });

  test('a path starting with // reaches the guest as given (not read as a host)', async () => {
    const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, 'GET', '//echo?x=1']);
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout);
    assert.equal(env.status, 200);
    assert.equal(JSON.parse(Buffer.from(env.body_b64, 'base64').toString()).url, '//echo?x=1');
  });

  test('a guest trap: the envelope carries execute_failed and the exit code is 1', async () => {
    const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, 'POST', '/trap']);
    assert.equal(r.code, 1);
    assert.match(JSON.parse(r.stdout).error, /^execute_failed: /);
  });

  test('--grant replaces the manifest\'s capabilities; --body @file is sent', async () => {
    const bodyFile = join(dataDir, 'calls.json');
    writeFileSync(bodyFile, JSON.stringify({ calls: [{ fn: 'scheduler.list-schedules' }, { fn: 'context.get-context' }] }));
    const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, '--grant', 'cap:log.emit', '--tenant', 'cli-tenant', 'POST', '/probe', '--body', `@${bodyFile}`]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(Buffer.from(JSON.parse(r.stdout).body_b64, 'base64').toString()).results;
    assert.deepEqual(results[0], { err: 'denied' });
    assert.equal(results[1].ok.tenantId, 'cli-tenant');
    const granted = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, '--tenant', 'cli-tenant', 'POST', '/probe', '--body', `@${bodyFile}`]);
    const again = JSON.parse(Buffer.from(JSON.parse(granted.stdout).body_b64, 'base64').toString()).results;
    assert.deepEqual(again[0], { ok: [] }, 'without --grant the manifest\'s capabilities apply again');
  });

  test('bad arguments → usage on stderr and exit 2; a body that is not JSON says so', async () => {
    const missing = await run(['exec', '--manifest', probe.manifestPath, 'GET', '/counter']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--component/);
    const badBody = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, 'POST', '/echo', '--body', '{nope']);
    assert.equal(badBody.code, 2);
    assert.match(badBody.stderr, /--body is not valid JSON/);
    const unknown = await run(['frobnicate']);
    assert.equal(unknown.code, 2);
  });

  test('exec --platform-data: the guest lists clients and writes an invoice; invoices list reads it back by tenant', async () => {
    const calls = JSON.stringify({
      calls: [
        { fn: 'clients.list-clients', args: [{ search: 'acme' }] },
        { fn: 'invoicing.create-manual-invoice', args: [{ clientId: '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e01', items: [{ serviceId: '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c02', quantity: 1.5, description: 'Remote support', rate: 12000 }] }] },
      ],
    });
    const example = join(projectRoot(), 'examples', 'platform-data.json');
    const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, '--tenant', 'cli-inv', '--platform-data', example, 'POST', '/probe', '--body', calls]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(Buffer.from(JSON.parse(r.stdout).body_b64, 'base64').toString()).results;
    assert.deepEqual(results[0].ok.items.map((c: { clientName: string }) => c.clientName), ['Acme Corporation']);
    assert.equal(results[1].ok.success, true, JSON.stringify(results[1]));
    assert.equal(results[1].ok.total, 18000);
    const listed = await run(['invoices', 'list', '--tenant', 'cli-inv']);
    assert.equal(listed.code, 0, listed.stderr);
    const invoices = JSON.parse(listed.stdout).invoices;
    assert.deepEqual(invoices.map((i: { invoiceNumber: string; total: number; status: string }) => [i.invoiceNumber, i.total, i.status]), [[results[1].ok.invoiceNumber, 18000, 'draft']]);
    assert.equal(invoices[0].items[0].description, 'Remote support');
    assert.deepEqual(JSON.parse((await run(['invoices', 'list', '--tenant', 'nobody'])).stdout), { invoices: [] });
    assert.equal((await run(['invoices', 'frob'])).code, 2);
  });

  test('--platform-data: a bad file stops exec before anything starts, naming the item and field', async () => {
    const file = join(dataDir, 'platform-data.json');
    writeFileSync(file, JSON.stringify({ clients: [{ clientId: 'c-1', clientName: 'Acme' }] }));
    const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, '--platform-data', file, 'GET', '/world']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /platform data .*platform-data\.json is not valid:\n {2}clients\[0\]\.clientId: must be a UUID/);
    assert.equal(r.stdout, '');
  });
});

describe('alga-runner serve', () => {
  test('refuses to start the server in production with a missing or well-known runner token', async () => {
    for (const token of ['', 'changeme', 'local-runner-key']) {
      const r = await run(['serve', '--role', 'server', '--port', '0'], { NODE_ENV: 'production', RUNNER_SERVICE_TOKEN: token, RUNNER_STORAGE_API_TOKEN: '' });
      assert.equal(r.code, 2, `token "${token}": ${r.stderr}`);
      assert.match(r.stderr, /refusing to start: RUNNER_SERVICE_TOKEN: /);
    }
  });

  test('--platform-data: the server roles validate it at start; the runner role refuses it', async () => {
    const bad = join(dataDir, 'serve-platform-data.json');
    writeFileSync(bad, JSON.stringify({ services: [{ serviceId: 'nope' }] }));
    const server = await run(['serve', '--role', 'server', '--port', '0', '--platform-data', bad]);
    assert.equal(server.code, 1);
    assert.match(server.stderr, /services\[0\]\.serviceId: must be a UUID/);
    const runner = await run(['serve', '--role', 'runner', '--port', '0', '--platform-data', bad]);
    assert.equal(runner.code, 2);
    assert.match(runner.stderr, /--platform-data belongs to the server/);
  });

  test('an unknown role is a usage error', async () => {
    const r = await run(['serve', '--role', 'everything']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--role must be runner, server or all/);
  });
});

describe('alga-runner dev', () => {
  /** Starts dev and waits for its ready line, however long that takes (the test's timeout is the bound). */
  async function startDev(extra: string[], signal: AbortSignal): Promise<{ child: ChildProcess; base: string; output: () => string }> {
    const child = spawn(process.execPath, [CLI, 'dev', 'components/scheduler-demo', '--port', '0', ...extra], {
      env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: dataDir },
      cwd: projectRoot(),
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const base = await new Promise<string>((resolve, reject) => {
      const gaveUp = () => {
        child.kill('SIGKILL');
        reject(new Error(`dev did not start:\n${out}`));
      };
      signal.addEventListener('abort', gaveUp, { once: true });
      child.stdout!.on('data', () => {
        const m = /(http:\/\/127\.0\.0\.1:\d+\/api\/ext\/com\.alga\.sample\.scheduler-demo)\/…/.exec(out);
        if (m) {
          signal.removeEventListener('abort', gaveUp);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`dev exited with ${code}:\n${out}`)));
    });
    return { child, base, output: () => out };
  }

  for (const shape of [[], ['--split']]) {
    test(`serves the sample and prints ready-to-paste curl commands${shape.length ? ' (split)' : ''}; Ctrl-C stops it cleanly`, { timeout: 600_000 }, async (t) => {
      const dev = await startDev(shape, t.signal);
      // Started from the seeded build: a cache hit, no componentize run.
      assert.match(dev.output(), /from the build cache|cache hit/, dev.output());
      try {
        assert.match(dev.output(), /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/api\/ext\/com\.alga\.sample\.scheduler-demo\/api\/setup/);
        const status = await fetch(`${dev.base}/api/status`);
        assert.equal(status.status, 200);
        const setup = await fetch(`${dev.base}/api/setup`, { method: 'POST', body: '{}' });
        assert.equal(setup.status, 200);
        const list = (await (await fetch(`${dev.base}/api/schedules`)).json()) as { schedules: { name: string }[] };
        assert.deepEqual(list.schedules.map((s) => s.name).sort(), ['Daily Status Check', 'Heartbeat Check']);
        if (!shape.length) {
          // The admin operations, asked of the running server through the CLI.
          const server = dev.base.replace(/\/api\/ext\/.*$/, '');
          const hb = (list.schedules as unknown as { id: string; name: string }[]).find((s) => s.name === 'Heartbeat Check')!;
          const next = await run(['schedules', 'next', hb.id, '--url', server, '--count', '3']);
          assert.equal(next.code, 0, next.stderr + next.stdout);
          const occ = JSON.parse(next.stdout).occurrences as string[];
          assert.equal(occ.length, 3);
          assert.equal(Date.parse(occ[1]!) - Date.parse(occ[0]!), 5 * 60_000);
          const now = await run(['schedules', 'run-now', hb.id, '--url', server]);
          assert.equal(now.code, 0, now.stderr + now.stdout);
          let runs: { trigger: string; status: string }[] = [];
          // Waits on the run's state (the test's timeout is the bound).
          while (!runs.some((r) => r.status === 'success') && !t.signal.aborted) {
            await new Promise((r) => setTimeout(r, 200));
            runs = JSON.parse((await run(['schedules', 'runs', hb.id, '--url', server])).stdout).runs;
          }
          assert.ok(runs.some((r) => r.trigger === 'run-now' && r.status === 'success'), JSON.stringify(runs));
          const bad = await run(['schedules', 'runs', 'not-a-uuid', '--url', server]);
          assert.equal(bad.code, 1);
          assert.match(bad.stdout, /invalid_schedule_id/);
        }
        // dev installs the extension for a tenant on its first request (each tenant its own schedules);
        // an extension nobody installed is still the gateway's JSON 404.
        const other = await fetch(`${dev.base}/api/schedules`, { headers: { 'x-alga-tenant': 'nobody' } });
        assert.equal(other.status, 200);
        assert.deepEqual(((await other.json()) as { schedules: unknown[] }).schedules, []);
        const unknown = await fetch(dev.base.replace(/scheduler-demo$/, 'no-such-extension') + '/api/schedules');
        assert.equal(unknown.status, 404);
        assert.equal(((await unknown.json()) as { error: string }).error, 'extension_not_found');
      } finally {
        const exited = new Promise((r) => dev.child.once('exit', (code) => r(code)));
        dev.child.kill('SIGINT');
        assert.equal(await exited, 0);
      }
    });
  }
});
