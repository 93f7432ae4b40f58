/**
 * `alga-runner build <dir>`: alga-runner's own build of an extension folder's guest sources (the
 * build `dev` uses when the folder has no build of its own), written to the manifest's `main` — the
 * file to deploy. It never runs the folder's `npm run build`: that script is usually this command.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildComponent, ComponentBuildError } from '../build/componentize.js';
import type { Manifest } from '../server/registry/manifest.js';
import { ExtensionDirError, readManifest, sourceEntry, WIT_DIR } from './extension-dir.js';

export interface BuiltToMain {
  manifest: Manifest;
  /** The guest entry that was built. */
  entry: string;
  /** Absolute path of the manifest's `main`, now holding the component. */
  outPath: string;
  bytes: number;
  fromCache: boolean;
}

export async function buildToMain(dir: string, opts: { cacheDir: string; onProgress?: (msg: string) => void }): Promise<BuiltToMain> {
  const root = resolve(dir);
  const manifest = readManifest(join(root, 'manifest.json'));
  const entry = sourceEntry(root, manifest);
  if (!entry) {
    const tried = [manifest.source, 'src/index.ts', 'src/index.js'].filter(Boolean).join(', ');
    throw new ExtensionDirError(`nothing to build in ${root}: no guest sources (${tried})`, 'build');
  }
  opts.onProgress?.(`building ${manifest.name} from ${relative(root, entry)} (componentize-js; cached by source hash)`);
  let built;
  try {
    built = await buildComponent({ entry, witDir: WIT_DIR, cacheDir: join(opts.cacheDir, 'components'), onProgress: opts.onProgress });
  } catch (e) {
    if (e instanceof ComponentBuildError) throw new ExtensionDirError(e.message, 'build', e.location);
    throw e;
  }
  const outPath = resolve(root, manifest.main);
  const bytes = readFileSync(built.wasmPath);
  mkdirSync(dirname(outPath), { recursive: true });
  // Beside the target and renamed, so a running `dev` or a deploy never reads half a file.
  const tmp = `${outPath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, outPath);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { manifest, entry, outPath, bytes: bytes.length, fromCache: built.fromCache };
}
