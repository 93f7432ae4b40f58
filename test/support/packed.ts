/**
 * The checkout as a user gets it: `npm pack` (the files `package.json` ships, dist/ already built by
 * the test run), then the tarball installed into a new folder with `npm ci --offline` from the local
 * npm cache. The folder's lockfile is this repository's, with the tarball as its one root dependency,
 * so the install resolves the versions this repository is tested with and needs no network.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from './components.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export interface PackedInstall {
  /** The folder the tarball is installed into (its package.json depends on it). */
  dir: string;
  /** `<dir>/node_modules/alga-node-runner`. */
  pkgDir: string;
  tarball: string;
  /** Files the tarball holds (paths inside the package). */
  files: string[];
}

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
}

export async function packAndInstall(): Promise<PackedInstall> {
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'alga-pack-'));
  chmodSync(dir, 0o755); // as root, an embedded cluster's own user must be able to enter it
  // --ignore-scripts: `prepare` would rebuild; the test run has just built dist/.
  const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 16 * 2 ** 20 });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const tarball = join(dir, info.filename);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; engines: unknown; bin: unknown; license: string };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const spec = `file:${info.filename}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { 'alga-node-runner': spec } },
    'node_modules/alga-node-runner': { version: pkg.version, resolved: spec, license: pkg.license, dependencies: pkg.dependencies, engines: pkg.engines, bin: pkg.bin },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev) continue;
    const { devOptional: _d, ...rest } = entry;
    packages[path] = rest;
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'alga-node-runner': spec } }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
  try {
    await run(NPM, ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, maxBuffer: 16 * 2 ** 20 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true }); // the caller never gets the folder to remove
    const x = e as { stderr?: string; message: string };
    throw new Error(`npm ci --offline of the packed tarball failed: ${x.stderr?.trim() || x.message}`);
  }
  return { dir, pkgDir: join(dir, 'node_modules', 'alga-node-runner'), tarball, files: info.files.map((f) => f.path) };
}
