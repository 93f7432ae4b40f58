/** `alga-runner secrets`, `exec --secret/--secrets-file` and `dev --secrets-file`, as a user runs them. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestComponent, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { STARTUP_GUARD_MS } from '../support/dev-process.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
const PROBE = 'com.alga.test.scheduler-probe';
let db: TestDatabase;
let dataDir: string;
let probe: { wasmPath: string; manifestPath: string };

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-secrets-cli-'));
  probe = await buildTestComponent('scheduler-probe');
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: dataDir }, cwd: projectRoot() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `exec` of the probe: the results of its calls. */
async function execProbe(calls: unknown[], extra: string[] = [], tenant = 'local') {
  const r = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, '--tenant', tenant, 'POST', '/probe', '--body', JSON.stringify({ calls }), ...extra]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(Buffer.from(JSON.parse(r.stdout).body_b64, 'base64').toString()).results;
}

const READ = [{ fn: 'secrets.list-keys' }, { fn: 'secrets.get', args: ['api_key'] }, { fn: 'secrets.get', args: ['region'] }];

describe('alga-runner secrets', () => {
  test('set, list, unset on the data folder; every exec carries them; --secret and --secrets-file override for one execution', async () => {
    assert.deepEqual(await execProbe(READ), [{ ok: [] }, { err: 'missing' }, { err: 'missing' }], 'installed, no secrets yet');

    const set = await run(['secrets', 'set', PROBE, 'api_key=abc=123', 'region=eu']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /set api_key, region .*stored keys: api_key, region/);
    assert.ok(!set.stdout.includes('abc=123') && !set.stderr.includes('abc=123'), 'values are never printed');
    const list = await run(['secrets', 'list', PROBE]);
    assert.deepEqual(list.stdout.trim().split('\n'), ['api_key', 'region']);
    assert.deepEqual(await execProbe(READ), [{ ok: ['api_key', 'region'] }, { ok: 'abc=123' }, { ok: 'eu' }]);

    const file = join(dataDir, 'override.json');
    writeFileSync(file, JSON.stringify({ region: 'us', extra: 'file' }));
    const once = await execProbe([...READ, { fn: 'secrets.get', args: ['extra'] }], ['--secrets-file', file, '--secret', 'api_key=one-off', '--secret', 'region=ap']);
    assert.deepEqual(once[0].ok.sort(), ['api_key', 'extra', 'region']);
    assert.deepEqual(once.slice(1), [{ ok: 'one-off' }, { ok: 'ap' }, { ok: 'file' }]);
    assert.deepEqual(await execProbe(READ), [{ ok: ['api_key', 'region'] }, { ok: 'abc=123' }, { ok: 'eu' }], 'the overrides were for that execution only');

    const unset = await run(['secrets', 'unset', PROBE, 'region']);
    assert.equal(unset.code, 0, unset.stderr);
    assert.deepEqual((await run(['secrets', 'list', PROBE])).stdout.trim().split('\n'), ['api_key']);
    await run(['secrets', 'unset', PROBE, 'api_key']);
    assert.equal((await run(['secrets', 'list', PROBE])).stdout, '');
    assert.deepEqual(await execProbe(READ), [{ ok: [] }, { err: 'missing' }, { err: 'missing' }]);
  });

  test('--tenant keeps tenants apart', async () => {
    await execProbe(READ, [], 'tenant-b');
    assert.equal((await run(['secrets', 'set', PROBE, 'api_key=for-b', '--tenant', 'tenant-b'])).code, 0);
    assert.deepEqual((await execProbe(READ, [], 'tenant-b')).slice(0, 2), [{ ok: ['api_key'] }, { ok: 'for-b' }]);
    assert.deepEqual((await execProbe(READ)).slice(0, 2), [{ ok: [] }, { err: 'missing' }]);
  });

  test('bad input: clear errors that never echo a value', async () => {
    const noEq = await run(['secrets', 'set', PROBE, 'hunter2-value']);
    assert.equal(noEq.code, 2);
    assert.match(noEq.stderr, /must be KEY=VALUE \(argument 1 is not\)/);
    assert.ok(!noEq.stderr.includes('hunter2-value'));
    const notInstalled = await run(['secrets', 'list', 'com.example.nothing']);
    assert.equal(notInstalled.code, 1);
    assert.match(notInstalled.stderr, /"com.example.nothing" is not installed for tenant "local"/);
    const bad = join(dataDir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ token: 42 }));
    const badFile = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, 'POST', '/probe', '--secrets-file', bad]);
    assert.equal(badFile.code, 2);
    assert.match(badFile.stderr, /the value of "token" must be a string/);
    const execNoEq = await run(['exec', '--component', probe.wasmPath, '--manifest', probe.manifestPath, 'POST', '/probe', '--secret', 's3cr3t']);
    assert.equal(execNoEq.code, 2);
    assert.ok(!execNoEq.stderr.includes('s3cr3t'));
  });
});

describe('alga-runner dev --secrets-file', () => {
  test('written at start and again when the file changes; a key removed from the file is removed', async () => {
    const file = join(dataDir, 'dev-secrets.json');
    writeFileSync(file, JSON.stringify({ api_key: 'dev-value-1' }));
    // The shared data folder: its component cache already holds the probe built above, so dev does
    // not componentize it again (a second 12 MB build took 95 s on a loaded machine).
    const child = spawn(process.execPath, [CLI, 'dev', 'components/scheduler-probe', '--port', '0', '--tenant', 'tenant-dev', '--secrets-file', file], {
      env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') },
      cwd: projectRoot(),
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`dev did not start:\n${out}`)), STARTUP_GUARD_MS);
        const check = () => {
          const m = /(http:\/\/127\.0\.0\.1:\d+\/api\/ext\/com\.alga\.test\.scheduler-probe)\/…/.exec(out);
          if (m && out.includes('secrets from')) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.on('exit', (code) => reject(new Error(`dev exited with ${code}:\n${out}`)));
      });
      const read = async () => {
        const r = await fetch(`${base}/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ calls: READ }) });
        return ((await r.json()) as { results: unknown[] }).results;
      };
      assert.deepEqual(await read(), [{ ok: ['api_key'] }, { ok: 'dev-value-1' }, { err: 'missing' }]);
      assert.ok(!out.includes('dev-value-1'), 'the value is not printed');
      writeFileSync(file, JSON.stringify({ region: 'eu' }));
      let results: unknown[] = [];
      for (let i = 0; i < 400; i++) {
        results = await read();
        if (JSON.stringify(results) !== JSON.stringify([{ ok: ['api_key'] }, { ok: 'dev-value-1' }, { err: 'missing' }])) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(results, [{ ok: ['region'] }, { err: 'missing' }, { ok: 'eu' }]);
      assert.match(out, /secrets updated from .*: region/);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
  });
});
