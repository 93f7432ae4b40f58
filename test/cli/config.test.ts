/**
 * Configuration is read once, in `src/config.ts`: a bad value stops `alga-runner` before anything
 * starts, with a message naming the variable; no other file under src/ reads the environment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig, VARIABLES } from '../../src/config.js';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
let db: TestDatabase;
let dataDir: string;

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-config-'));
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs the CLI; a process still running after 60 s (it started instead of refusing) is killed. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: dataDir, ...env },
      cwd: projectRoot(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, killed });
    });
  });
}

describe('alga-runner serve: a bad environment value stops start-up, naming the variable', () => {
  const cases: [string, string[], Record<string, string>][] = [
    ['EXT_GATEWAY_TIMEOUT_MS', ['serve', '--port', '0'], { EXT_GATEWAY_TIMEOUT_MS: 'soon' }],
    ['EXT_RUNNER_MAX_RESPONSE_BYTES', ['serve', '--port', '0'], { EXT_RUNNER_MAX_RESPONSE_BYTES: '256k' }],
    ['PORT', ['serve'], { PORT: 'eighty' }],
    ['RUNNER_BASE_URL', ['serve', '--role', 'server', '--port', '0'], { RUNNER_BASE_URL: 'runner:8080' }],
    ['STORAGE_API_BASE_URL', ['serve', '--role', 'runner', '--port', '0'], { STORAGE_API_BASE_URL: 'not a url' }],
    ['ALGA_SCHEDULE_EXECUTION', ['serve', '--port', '0'], { ALGA_SCHEDULE_EXECUTION: 'sometimes' }],
    ['UI_PROXY_TIMEOUT_MS', ['serve', '--port', '0'], { UI_PROXY_TIMEOUT_MS: '-5' }],
  ];
  for (const [variable, args, env] of cases) {
    test(`${variable}=${Object.values(env)[0]}`, async () => {
      const r = await run(args, env);
      assert.equal(r.killed, false, `serve started despite ${variable}=${env[variable]}: ${r.stderr}`);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`invalid configuration: .*${variable}: `));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  test('a bad token value is named but never echoed', () => {
    // Tokens are free text; only a value the schema refuses is reported, and never printed.
    const err = (() => {
      try {
        loadConfig({ PORT: '1e3', RUNNER_SERVICE_TOKEN: 'x'.repeat(30) });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.variable), ['PORT']);
  });
});

describe('loadConfig', () => {
  test('values are parsed and normalised; blank counts as unset', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      PORT: ' 3110 ',
      STORAGE_API_BASE_URL: ' http://a:1/api/ ',
      REGISTRY_BASE_URL: 'http://b',
      RUNNER_STORAGE_API_TOKEN: '  ',
      RUNNER_SERVICE_TOKEN: ' svc ',
      EXT_EGRESS_ALLOWLIST: ' a.com, b.org ,,',
      ALGA_SCHEDULE_EXECUTION: 'OFF',
      EXT_RUNNER_MAX_RESPONSE_BYTES: '0',
    });
    assert.equal(c.production, true);
    assert.equal(c.port, 3110);
    assert.equal(c.callbackBaseUrl, 'http://a:1');
    assert.equal(c.runnerToken, 'svc');
    assert.deepEqual(c.egressAllowlist, ['a.com', 'b.org']);
    assert.equal(c.scheduleExecution, false);
    assert.equal(c.execution.maxResponseBytes, 0);
    assert.equal(loadConfig({ REGISTRY_BASE_URL: 'http://b:2/' }).callbackBaseUrl, 'http://b:2');
  });

  test('defaults', () => {
    const c = loadConfig({});
    assert.equal(c.production, false);
    assert.equal(c.port, undefined);
    assert.equal(c.callbackBaseUrl, undefined);
    assert.deepEqual(c.egressAllowlist, []);
    assert.equal(c.scheduleExecution, true);
    assert.deepEqual(c.execution, { timeoutMs: 30_000, maxResponseBytes: 262_144 });
    assert.deepEqual(c.uiProxy, { baseUrl: undefined, timeoutMs: 5_000 });
  });

  test('every bad value is reported at once', () => {
    assert.throws(
      () => loadConfig({ PORT: '70000', DATABASE_URL: 'mysql://x', UI_PROXY_BASE_URL: 'ftp://x' }),
      (e: ConfigError) => {
        assert.deepEqual(e.problems.map((p) => p.variable).sort(), ['DATABASE_URL', 'PORT', 'UI_PROXY_BASE_URL']);
        return true;
      },
    );
  });
});

test('no file under src/ but src/config.ts reads process.env', () => {
  const src = join(projectRoot(), 'src');
  const readers: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(name) && /\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*['"]env/.test(readFileSync(p, 'utf8'))) readers.push(relative(src, p));
    }
  };
  walk(src);
  assert.deepEqual(readers, ['config.ts']);
  assert.ok(Object.keys(VARIABLES).length >= 18);
});

test('the README documents every variable', () => {
  const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  for (const name of Object.keys(VARIABLES)) assert.match(section, new RegExp(`\\| \`${name}\` \\|`), name);
});
