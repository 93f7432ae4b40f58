/**
 * `alga-runner conformance` as a user runs it: in-process with --json, against our runner started
 * with `serve --role runner` (--target, the kit hosting the callback side), and its usage errors.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/server/db/embedded.js';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const CLI = () => join(projectRoot(), 'bin', 'alga-runner.js');

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI(), 'conformance', ...args], { cwd: projectRoot(), env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('alga-runner conformance', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  test('in-process, --json: exit 0 and a report of every case run', async () => {
    const r = await run(['--world', '2026-01-03,current', '--filter', 'user', '--json'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.worlds.map((w: { id: string }) => w.id), ['2026-01-03', 'current']);
    assert.equal(report.summary.fail, 0);
    assert.equal(report.summary.total, report.results.length);
    assert.ok(report.results.some((x: { world: string; fn: string }) => x.world === '2026-01-03' && x.fn === 'user.get-user'));
  });

  describe('--target: our runner started with serve --role runner, calling the kit back', () => {
    const TOKEN = 'conformance-cli-token';
    let runner: ChildProcess;
    let runnerUrl: string;
    let callbackPort: number;
    before(async () => {
      callbackPort = await freePort();
      const port = await freePort();
      runner = spawn(process.execPath, [CLI(), 'serve', '--role', 'runner', '--port', String(port), '--data-dir', join(projectRoot(), '.alga')], {
        cwd: projectRoot(),
        // The kit's UI-proxy stand-in, as docs/conformance.md tells a --target runner to be configured.
        env: { ...process.env, RUNNER_SERVICE_TOKEN: TOKEN, STORAGE_API_BASE_URL: `http://127.0.0.1:${callbackPort}`, UI_PROXY_BASE_URL: `http://127.0.0.1:${callbackPort}/conformance/ui-proxy`, DATABASE_URL: '' },
        stdio: 'ignore',
      });
      runnerUrl = `http://127.0.0.1:${port}`;
      // Until it answers or exits; only a hang reaches the bound (a start-up takes seconds when loaded).
      for (let i = 0; ; i++) {
        const ok = await fetch(`${runnerUrl}/healthz`).then((r) => r.ok, () => false);
        if (ok) break;
        if (runner.exitCode !== null) throw new Error(`the runner exited with ${runner.exitCode} before it answered`);
        if (i > 6000) throw new Error('runner did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    after(async () => {
      if (runner && runner.exitCode === null) {
        runner.kill('SIGTERM');
        await new Promise((r) => runner.once('exit', r));
      }
    });

    test('passes; the table names each world, function and case', async () => {
      const r = await run(['--target', runnerUrl, '--callback-port', String(callbackPort), '--world', 'current,2026-01-03', '--filter', 'scheduler.', '--filter', '/v1/execute', '--filter', 'ui-proxy.', '--filter', 'invoicing.', '--filter', 'clients.'], {
        DATABASE_URL: db.url,
        RUNNER_SERVICE_TOKEN: TOKEN,
      });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /^current +scheduler\.create-schedule +invalid cron \(3 fields\) +pass \(fixes production: docs\/differences\.md#field-errors\)$/m);
      assert.match(r.stdout, /^2026-01-03 +scheduler\.list-schedules +granted, install unknown to the platform +pass$/m);
      // The success paths behind the kit's platform data and UI-proxy stand-in.
      assert.match(r.stdout, /^current +ui-proxy\.call-route +granted, no payload: GET .* x-api-key from the api_key secret +pass$/m);
      assert.match(r.stdout, /^current +invoicing\.create-manual-invoice +granted, valid: a draft with its number and totals .* +pass$/m);
      assert.match(r.stdout, /^current +clients\.get-client +granted: a client of the platform, every field .* +pass$/m);
      assert.match(r.stdout, /cases in 2 world\(s\): \d+ pass, 0 differ as documented, 0 fail/);
    });

    test('without the runner token: a usage error naming what is missing', async () => {
      const r = await run(['--target', runnerUrl], { DATABASE_URL: db.url, RUNNER_SERVICE_TOKEN: '', RUNNER_STORAGE_API_TOKEN: '' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--target needs the runner token/);
    });
  });

  test('usage errors exit 2', async () => {
    const a = await run(['--production'], {});
    assert.equal(a.code, 2);
    assert.match(a.stderr, /--production needs --target/);
    const b = await run(['--world', '1999-01-01'], {});
    assert.equal(b.code, 2);
    assert.match(b.stderr, /unknown world "1999-01-01"/);
  });
});
