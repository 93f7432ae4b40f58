/**
 * `alga-runner new` as a user runs it: the folder it writes installs (`npm install`, this checkout
 * by file: path), its own test passes (`npm test`: node:test on the test kit, which builds the
 * folder with its `npm run build` = `alga-runner build .`), its tsconfig type-checks the source, and
 * `alga-runner exec` answers each endpoint of the built component. The folders live at fixed paths
 * under .alga/ and share the checkout's build cache, so later runs do not componentize again.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { templateEndpoints } from '../../src/scaffold/templates.js';
import { projectRoot } from '../support/components.js';
import { testServerUrl } from '../support/db.js';

const exec = promisify(execFile);
const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
const BASE = join(projectRoot(), '.alga', 'test-new');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = () => ({ ...process.env, DATABASE_URL: testServerUrl(), ALGA_DATA_DIR: join(projectRoot(), '.alga'), NODE_TEST_CONTEXT: undefined });

async function cli(args: string[], cwd = projectRoot()): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, ...args], { cwd, env: env(), maxBuffer: 16 * 2 ** 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('alga-runner new: what it refuses', () => {
  test('an invalid name, a non-empty folder (unless --force), an unknown template; the default name comes from the folder', async () => {
    const dir = join(BASE, 'refusals', 'My Sync_Tool');
    rmSync(join(BASE, 'refusals'), { recursive: true, force: true });
    for (const bad of ['Acme.Sync', 'acme', 'com.acme.', 'com..acme', 'com.acme.-x', 'com.acme.x_y']) {
      const r = await cli(['new', dir, '--name', bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, new RegExp(`invalid extension name "${bad.replace(/\./g, '\\.')}": use lowercase letters, digits, "\\." and "-" in reverse-DNS style`));
    }
    const t = await cli(['new', dir, '--template', 'cron']);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /unknown --template "cron" \(templates: basic, scheduler\)/);
    const ok = await cli(['new', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /✔ com\.example\.my-sync-tool \(template basic\)/);
    for (const f of ['manifest.json', 'package.json', 'tsconfig.json', 'src/index.ts', 'test/extension.test.mjs', '.gitignore', 'README.md']) assert.match(ok.stdout, new RegExp(`wrote ${f.replace('.', '\\.')}`));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.name, 'com.example.my-sync-tool');
    assert.equal(manifest.publisher, 'com.example');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.scripts, { build: 'alga-runner build .', test: 'node --test', dev: 'alga-runner dev .' });
    assert.equal(pkg.devDependencies['alga-node-runner'], `file:${projectRoot()}`);
    const again = await cli(['new', dir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is not empty \(.*\): choose a new folder, or pass --force/);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const forced = await cli(['new', dir, '--force', '--template', 'scheduler', '--name', 'com.acme.nightly-sync', '--publisher', 'com.acme', '--runner-version', '^0.2.0']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
    assert.equal(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).devDependencies['alga-node-runner'], '^0.2.0');
    assert.equal(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).publisher, 'com.acme');
    const badVersion = await cli(['new', join(BASE, 'refusals', 'v'), '--runner-version', 'latest']);
    assert.equal(badVersion.code, 2);
    assert.match(badVersion.stderr, /invalid --runner-version "latest"/);
  });
});

for (const template of ['basic', 'scheduler'] as const) {
  describe(`alga-runner new --template ${template}`, () => {
    test('npm install and npm test pass in the new folder, its tsconfig type-checks it, and exec answers each endpoint', async () => {
      const dir = join(BASE, template);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(BASE, { recursive: true });
      const made = await cli(['new', dir, '--template', template, '--name', `com.example.new-${template}`]);
      assert.equal(made.code, 0, made.stderr);
      await exec(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: env() });
      const t = await exec(NPM, ['test'], { cwd: dir, env: env(), maxBuffer: 16 * 2 ** 20 }).catch((e: { stdout: string; stderr: string }) => {
        throw new Error(`npm test failed in ${dir}:\n${e.stdout}\n${e.stderr}`);
      });
      assert.match(t.stdout, /^(#|ℹ) pass 2$/m, t.stdout);
      assert.match(t.stdout, /^(#|ℹ) fail 0$/m, t.stdout);
      await exec(process.execPath, [join(projectRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]).catch((e: { stdout: string }) => {
        throw new Error(`tsc -p ${dir} failed:\n${e.stdout}`);
      });
      for (const e of templateEndpoints(template)) {
        const r = await cli(['exec', '--component', 'dist/main.wasm', '--manifest', 'manifest.json', e.method, e.path, ...(e.exampleBody ? ['--body', e.exampleBody] : [])], dir);
        assert.equal(r.code, 0, `${e.method} ${e.path}: ${r.stdout}${r.stderr}`);
        const envelope = JSON.parse(r.stdout);
        assert.equal(envelope.status, 200, `${e.method} ${e.path}: ${r.stdout}`);
        assert.ok(JSON.parse(Buffer.from(envelope.body_b64, 'base64').toString()), `${e.method} ${e.path} answers JSON`);
      }
    });
  });
}
