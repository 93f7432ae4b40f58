/**
 * `alga-runner build <dir>` as a user runs it: a real process builds a folder's guest sources with
 * componentize-js to the manifest's `main`, which `alga-runner exec` then runs. The folder lives at a
 * fixed path under .alga/ so the build cache (keyed by the bundle, which names its files) is reused
 * by later runs; the first run componentizes for real.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
const DIR = join(projectRoot(), '.alga', 'test-build', 'hello');
let db: TestDatabase;

function run(args: string[], cwd = DIR): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const MANIFEST = {
  name: 'com.example.hello',
  publisher: 'com.example',
  version: '0.1.0',
  runtime: 'wasm-js@1',
  main: 'dist/main.wasm',
  capabilities: [],
  api: { endpoints: [{ method: 'GET', path: '/api/hello', handler: 'dist/main' }] },
};
const SOURCE = `export function handler(request: { http: { url: string } }) {
  const body = new TextEncoder().encode(JSON.stringify({ hello: request.http.url }));
  return { status: 200, headers: [{ name: 'content-type', value: 'application/json' }], body };
}
`;

before(async () => {
  db = await createTestDatabase();
  mkdirSync(join(DIR, 'src'), { recursive: true });
  writeFileSync(join(DIR, 'manifest.json'), JSON.stringify(MANIFEST, null, 2));
  writeFileSync(join(DIR, 'src', 'index.ts'), SOURCE);
  rmSync(join(DIR, 'dist'), { recursive: true, force: true });
});
after(async () => {
  await db?.drop();
});

describe('alga-runner build', () => {
  test('writes the component to the manifest\'s main with progress on stderr; exec runs that file', async () => {
    const r = await run(['build', '.']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /› building com\.example\.hello from src\/index\.ts/);
    assert.match(r.stderr, /› bundl/);
    assert.match(r.stdout, /✔ com\.example\.hello@0\.1\.0: wrote dist\/main\.wasm \(\d+\.\d MiB/);
    const bytes = readFileSync(join(DIR, 'dist', 'main.wasm'));
    // \0asm with a component's version/layer (0d 00 01 00), not a core module.
    assert.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
    const e = await run(['exec', '--component', 'dist/main.wasm', '--manifest', 'manifest.json', 'GET', '/api/hello']);
    assert.equal(e.code, 0, e.stderr);
    const env = JSON.parse(e.stdout);
    assert.equal(env.status, 200);
    assert.deepEqual(JSON.parse(Buffer.from(env.body_b64, 'base64').toString()), { hello: '/api/hello' });
  });

  test('a syntax error fails the build naming file:line, and writes nothing', async () => {
    const dir = join(projectRoot(), '.alga', 'test-build', 'broken');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...MANIFEST, name: 'com.example.broken' }));
    writeFileSync(join(dir, 'src', 'index.ts'), 'export function handler() {\n  return {\n    status: 200,,\n  };\n}\n');
    const r = await run(['build', dir], projectRoot());
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${join(dir, 'src', 'index.ts').replace(/[.]/g, '\\.')}:3:\\d+: `));
    assert.equal(existsSync(join(dir, 'dist')), false);
  });

  test('a folder without manifest.json, or without sources, says so; no folder is a usage error', async () => {
    const empty = join(projectRoot(), '.alga', 'test-build', 'empty');
    rmSync(empty, { recursive: true, force: true });
    mkdirSync(empty, { recursive: true });
    const none = await run(['build', empty], projectRoot());
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no manifest at .*empty\/manifest\.json/);
    writeFileSync(join(empty, 'manifest.json'), JSON.stringify({ ...MANIFEST, name: 'com.example.empty' }));
    const nosrc = await run(['build', empty], projectRoot());
    assert.equal(nosrc.code, 1);
    assert.match(nosrc.stderr, /nothing to build in .*empty: no guest sources \(src\/index\.ts, src\/index\.js\)/);
    const usage = await run(['build'], projectRoot());
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /build needs an extension folder/);
  });
});
