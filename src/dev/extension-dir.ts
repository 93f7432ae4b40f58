/**
 * An extension folder: `manifest.json` plus either guest sources (built with componentize-js,
 * cached by a hash of sources + WIT) or a prebuilt component at the manifest's `main`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildComponent } from '../build/componentize.js';
import { parseManifest, type Manifest } from '../server/registry/manifest.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WIT_DIR = join(PROJECT_ROOT, 'wit');

export class ExtensionDirError extends Error {}

export function readManifest(path: string): Manifest {
  if (!existsSync(path)) throw new ExtensionDirError(`no manifest at ${path}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ExtensionDirError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseManifest(raw, path);
}

export interface LoadedExtension {
  manifest: Manifest;
  component: Uint8Array;
  /** Where the component came from: a build of sources, or a prebuilt file. */
  origin: { kind: 'built'; entry: string; fromCache: boolean } | { kind: 'prebuilt'; path: string };
}

/** Sources win over a prebuilt file, so an edit is always picked up (the build cache keeps it fast). */
export async function loadExtensionDir(dir: string, opts: { cacheDir: string; onProgress?: (m: string) => void }): Promise<LoadedExtension> {
  const root = resolve(dir);
  const manifest = readManifest(join(root, 'manifest.json'));
  const candidates = [manifest.source, 'src/index.ts', 'src/index.js'].filter((s): s is string => !!s).map((s) => join(root, s));
  const entry = candidates.find((c) => existsSync(c));
  if (entry) {
    opts.onProgress?.(`building ${manifest.name} from ${entry} (componentize-js; cached by source hash)`);
    const built = await buildComponent({ entry, witDir: WIT_DIR, cacheDir: join(opts.cacheDir, 'components'), onProgress: opts.onProgress });
    return { manifest, component: readFileSync(built.wasmPath), origin: { kind: 'built', entry, fromCache: built.fromCache } };
  }
  const wasm = join(root, manifest.main);
  if (existsSync(wasm)) return { manifest, component: readFileSync(wasm), origin: { kind: 'prebuilt', path: wasm } };
  throw new ExtensionDirError(`${root} has neither sources (${candidates.join(', ')}) nor a component at ${wasm}`);
}
