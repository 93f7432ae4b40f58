/**
 * What `alga-runner dev` prints while it serves, and how it fails: one line per execution with the
 * guest's log lines under it (no colours off a terminal), a new tenant installed on its first
 * request, `--log-format json`, `--quiet`; port in use, PostgreSQL that does not start (its log's
 * tail), an invalid manifest (file, field, reason).
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCli, startDev } from '../support/dev-process.js';

let db: TestDatabase;
let work: string;
let env: Record<string, string>;
const SAMPLE = join(projectRoot(), 'components', 'scheduler-demo');
const NAME = 'com.alga.sample.scheduler-demo';

before(async () => {
  db = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'alga-dev-output-'));
  chmodSync(work, 0o755);
  env = { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') };
});
after(async () => {
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

describe('dev output', () => {
  test('one line per execution, guest log lines under it, no colours off a terminal; a new tenant is installed on its first request', async () => {
    const dev = await startDev([SAMPLE], env);
    try {
      const base = `${dev.url}/api/ext/${NAME}`;
      assert.equal((await fetch(`${base}/api/status`)).status, 200);
      const line = await dev.waitFor(/(\d\d:\d\d:\d\d) GET \/api\/status {2}200 {2}(\d+) ms {2}(\d+) host calls? {2}http\n {9}│ info {2}\[scheduler-demo\] status check at \S+ {2}req ([0-9a-f]{8})/);
      assert.ok(Number(line[3]) >= 1, 'the guest logged through the host');
      assert.doesNotMatch(dev.output(), /\u001b\[/, 'no ANSI colours when stdout is not a terminal');
      assert.doesNotMatch(dev.output(), /execute start|scheduler host API call/, 'per-call chatter is left out');

      const other = await fetch(`${base}/api/status`, { headers: { 'x-alga-tenant': 'acme' } });
      assert.equal(other.status, 200);
      assert.equal(((await other.json()) as { tenant: string }).tenant, 'acme');
      await dev.waitFor(/installed com\.alga\.sample\.scheduler-demo for tenant "acme" on its first request/);
      await dev.waitFor(/GET \/api\/status {2}200 .* {2}http {2}tenant acme/);
      const installs = await db.pool.query(`SELECT tenant_id, granted_caps FROM tenant_extension_install ORDER BY tenant_id`);
      assert.deepEqual(installs.rows.map((r) => r.tenant_id), ['acme', 'local']);
      assert.deepEqual(installs.rows[0].granted_caps, installs.rows[1].granted_caps, 'same grants');

      await fetch(`${base}/api/nope`);
      await dev.waitFor(/⚠ endpoint not found {2}method=GET path=\/api\/nope declared=/);
    } finally {
      assert.equal(await dev.stop(), 0);
    }
  });

  test('--log-format json prints structured lines; --quiet leaves out successful executions', async () => {
    const json = await startDev([SAMPLE, '--log-format', 'json'], env);
    try {
      assert.equal((await fetch(`${json.url}/api/ext/${NAME}/api/status`)).status, 200);
      await json.waitFor(/"msg":"execute done"/);
      const done = json.output().split('\n').filter((l) => l.includes('"execute done"')).map((l) => JSON.parse(l));
      assert.equal(done[0].method, 'GET');
      assert.equal(done[0].path, '/api/status');
      assert.equal(done[0].status, 200);
    } finally {
      assert.equal(await json.stop(), 0);
    }
    const quiet = await startDev([SAMPLE, '--quiet'], env);
    try {
      assert.equal((await fetch(`${quiet.url}/api/ext/${NAME}/api/status`)).status, 200);
      await fetch(`${quiet.url}/api/ext/${NAME}/api/nope`);
      await quiet.waitFor(/⚠ endpoint not found/); // lines after the request are printed in order
      assert.doesNotMatch(quiet.output(), /GET \/api\/status {2}200|status check at|› /);
    } finally {
      assert.equal(await quiet.stop(), 0);
    }
  });

  test('clear errors: port in use, PostgreSQL that does not start, an invalid manifest', async () => {
    const busy = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(['dev', SAMPLE, '--port', String(port)], env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} is in use .*--port N`));
    } finally {
      busy.close();
    }

    const data = join(work, 'broken-pg');
    mkdirSync(join(data, 'pg'), { recursive: true });
    writeFileSync(join(data, 'pg', 'PG_VERSION'), '9\n'); // a cluster folder without its files
    const pg = await runCli(['dev', SAMPLE, '--port', '0'], { DATABASE_URL: '', ALGA_DATA_DIR: data });
    assert.equal(pg.code, 1, pg.stderr);
    assert.match(pg.stderr, /PostgreSQL failed to start \(data in .*broken-pg\/pg\)/);
    assert.match(pg.stderr, /last lines of its log:\n {2}\| .*postgresql\.conf/);

    const bad = join(work, 'bad-manifest');
    cpSync(SAMPLE, bad, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(bad, 'manifest.json'), 'utf8'));
    manifest.api.endpoints[1].method = 'FETCH';
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify(manifest));
    const m = await runCli(['dev', bad, '--port', '0'], env);
    assert.equal(m.code, 1, m.stderr);
    assert.match(m.stderr, /bad-manifest\/manifest\.json is invalid: api\.endpoints\.1\.method: /);
  });
});
