/**
 * `alga-runner serve` with NODE_ENV=production, as a user starts it: `/v1/execute` is never open
 * without a key, the runner role refuses to start without its key, callback base and token, weak
 * secrets are refused saying how to make one, and the key is accepted only in the documented forms.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
const TOKEN = 'a-runner-token-long-enough-for-production';
const KEY = 'an-api-key-long-enough-for-production-0123';
let db: TestDatabase;
let dataDir: string;
const children: ChildProcess[] = [];

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-serve-auth-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function env(over: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: db.url,
    ALGA_DATA_DIR: dataDir,
    ALGA_SCHEDULE_EXECUTION: 'off',
    NODE_ENV: 'production',
    RUNNER_STORAGE_API_TOKEN: '',
    RUNNER_SERVICE_TOKEN: '',
    ALGA_RUNNER_API_KEY: '',
    STORAGE_API_BASE_URL: '',
    REGISTRY_BASE_URL: '',
    ...over,
  };
}

/** Starts serve and resolves with its URL once it logs that it listens; rejects if it exits first. */
function startServe(args: string[], over: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: env(over), cwd: projectRoot() });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within 120 s:\n${out}`));
    }, 120_000);
    const check = () => {
      const m = /"msg":"(?:server|runner) listening","url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
}

/** Runs serve expecting a refusal; a process still running after 60 s (it started) is killed. */
function refused(args: string[], over: Record<string, string>): Promise<{ code: number | null; stderr: string; started: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: env(over), cwd: projectRoot(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let started = false;
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      started = true;
      child.kill('SIGKILL');
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, started });
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const ENVELOPE = JSON.stringify({
  context: { tenant_id: 'victim', extension_id: 'e1', install_id: 'i1', content_hash: `sha256:${'0'.repeat(64)}` },
  http: { method: 'POST', path: '/schedules' },
});

async function execute(url: string, headers: Record<string, string> = {}) {
  const res = await request(`${url}/v1/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-alga-tenant': 'victim', 'x-alga-extension': 'e1', ...headers },
    body: ENVELOPE,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

describe('serve --role all, NODE_ENV=production', () => {
  test('without ALGA_RUNNER_API_KEY, /v1/execute is not served on the public port', async () => {
    const s = await startServe([], { RUNNER_SERVICE_TOKEN: TOKEN });
    try {
      assert.equal((await execute(s.url)).status, 404);
      assert.equal((await execute(s.url, { 'x-runner-service-token': TOKEN })).status, 404);
      const health = await request(`${s.url}/healthz`);
      assert.equal(health.statusCode, 200);
      await health.body.dump();
      assert.match(s.output(), /\/v1\/execute is not served/);
    } finally {
      await stop(s.child);
    }
  });

  test('with ALGA_RUNNER_API_KEY, /v1/execute takes the key only as x-runner-service-token or Bearer', async () => {
    const s = await startServe([], { RUNNER_SERVICE_TOKEN: TOKEN, ALGA_RUNNER_API_KEY: KEY });
    try {
      assert.equal((await execute(s.url)).status, 401);
      assert.equal((await execute(s.url, { authorization: KEY })).status, 401, 'a bare key without a scheme is refused');
      assert.equal((await execute(s.url, { authorization: `Basic ${KEY}` })).status, 401);
      assert.equal((await execute(s.url, { 'x-runner-service-token': `${KEY}x` })).status, 401);
      assert.equal((await execute(s.url, { 'x-runner-service-token': KEY.slice(0, -1) })).status, 401);
      for (const headers of [{ 'x-runner-service-token': KEY }, { authorization: `Bearer ${KEY}` }] as Record<string, string>[]) {
        const r = await execute(s.url, headers);
        assert.equal(r.status, 200, r.text);
        assert.equal(typeof JSON.parse(r.text).status, 'number', 'the execution envelope');
      }
    } finally {
      await stop(s.child);
    }
  });
});

describe('serve, NODE_ENV=production: start-up refusals name the variable', () => {
  const runnerOk = { ALGA_RUNNER_API_KEY: KEY, STORAGE_API_BASE_URL: 'http://127.0.0.1:9/api', RUNNER_SERVICE_TOKEN: TOKEN };
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['runner without an API key', ['--role', 'runner'], { ...runnerOk, ALGA_RUNNER_API_KEY: '' }, /ALGA_RUNNER_API_KEY: required/],
    ['runner without the platform base URL', ['--role', 'runner'], { ...runnerOk, STORAGE_API_BASE_URL: '' }, /STORAGE_API_BASE_URL: required/],
    ['runner without the token it calls back with', ['--role', 'runner'], { ...runnerOk, RUNNER_SERVICE_TOKEN: '' }, /RUNNER_SERVICE_TOKEN: required/],
    ['a runner token shorter than 24 characters', ['--role', 'server'], { RUNNER_SERVICE_TOKEN: 'only-23-characters-long' }, /RUNNER_SERVICE_TOKEN: is shorter than 24 characters/],
    ['a well-known runner token', ['--role', 'server'], { RUNNER_STORAGE_API_TOKEN: 'changeme' }, /RUNNER_STORAGE_API_TOKEN: is a well-known default/],
    ['a weak API key', [], { RUNNER_SERVICE_TOKEN: TOKEN, ALGA_RUNNER_API_KEY: 'local-runner-key' }, /ALGA_RUNNER_API_KEY: is a well-known default/],
    ['a short API key on the runner', ['--role', 'runner'], { ...runnerOk, ALGA_RUNNER_API_KEY: 'short-key' }, /ALGA_RUNNER_API_KEY: is shorter than 24/],
  ];
  for (const [name, args, over, expected] of cases) {
    test(name, async () => {
      const r = await refused(args, over);
      assert.equal(r.started, false, `serve started: ${r.stderr}`);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /refusing to start: /);
      assert.match(r.stderr, expected);
      if (/short|weak|well-known/.test(name)) assert.match(r.stderr, /openssl rand -hex 32/, 'says how to generate one');
      for (const secret of Object.values(over)) if (secret.length > 4 && secret !== over.STORAGE_API_BASE_URL) assert.ok(!r.stderr.includes(secret), 'the secret is not echoed');
    });
  }

  test('the runner starts with a strong key, the base URL and a strong token', async () => {
    const s = await startServe(['--role', 'runner'], runnerOk);
    try {
      const health = await request(`${s.url}/healthz`);
      assert.equal(health.statusCode, 200);
      await health.body.dump();
      assert.equal((await execute(s.url)).status, 401);
    } finally {
      await stop(s.child);
    }
  });
});
