/**
 * Components by content hash: bytes from the registry → jco transpile (once per hash, kept on disk
 * so a restart does not transpile again) → compiled core modules, once per process and memory cap
 * (each variant's memories declare the cap as their maximum; see sandbox/wasm-binary.ts), shared
 * with every sandbox worker.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { contentHashHex, sha256Hex } from '../shared/content-hash.js';
import type { ComponentSource } from './ports.js';
import { JSPI_REVISION, TRANSPILE_REVISION, transpileComponent } from './transpile.js';
import type { ComponentVariant } from './sandbox/protocol.js';
import { rewriteCoreModule, WASM_PAGE } from './sandbox/wasm-binary.js';
import { addWriteBarrier, BARRIER_REVISION, MARKS_EXPORT, multiMemorySupported } from './sandbox/write-barrier.js';
import type { CoreStateExports } from './sandbox/snapshot.js';

export interface LoadedComponent {
  /** Lowercase hex sha256, without the `sha256:` prefix. */
  hash: string;
  glueDir: string;
  /** The glue is jco's JSPI glue (its I/O imports suspend the guest); false: the sync glue. */
  jspi: boolean;
  /** Compiled core modules whose memories are capped at `memoryMb` (compiled on first use). */
  variant(memoryMb: number): Promise<Required<ComponentVariant>>;
}

/** Largest cap a wasm32 memory can declare (65 536 pages of 64 KiB). */
export const MAX_MEMORY_MB = 4096;

export class BundleError extends Error {}

const COMPLETE = '.complete';

export interface ComponentCacheOptions {
  cacheDir: string;
  source: ComponentSource;
  onProgress?: (msg: string) => void;
  /** Add the write barrier (sandbox/write-barrier.ts) where the engine allows; false only for benches. */
  writeBarrier?: boolean;
  /** Transpile with jco's JSPI glue (transpile.ts), where jco's output verifies; default false. */
  jspi?: boolean;
  /** Each component as it is loaded (which glue it got). */
  onLoaded?: (c: LoadedComponent) => void;
}

/** Which glue a transpiled folder holds (a JSPI transpile may have fallen back to the sync glue). */
const GLUE_MODE = 'glue-mode';

export class ComponentCache {
  /** Each loaded component's compiled memory-cap variants (counted by `variantCount`). */
  private readonly variantMaps: Map<number, unknown>[] = [];

  /** Compiled variants held, over every component. */
  variantCount(): number {
    return this.variantMaps.reduce((n, m) => n + m.size, 0);
  }

  private readonly loaded = new Map<string, Promise<LoadedComponent>>();

  constructor(private readonly opts: ComponentCacheOptions) {}

  /** Throws BundleError when the hash is unknown or the bytes do not match it. */
  get(ref: { tenantId: string; extensionId: string; contentHash: string }): Promise<LoadedComponent> {
    const hash = contentHashHex(ref.contentHash);
    let p = this.loaded.get(hash);
    if (!p) {
      p = this.load(hash, ref);
      this.loaded.set(hash, p);
      p.catch(() => this.loaded.delete(hash)); // a failed load may succeed later (bundle uploaded)
    }
    return p;
  }

  private async load(hash: string, ref: { tenantId: string; extensionId: string }): Promise<LoadedComponent> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new BundleError(`invalid content hash ${JSON.stringify(hash)}`);
    const wantJspi = this.opts.jspi === true;
    const glueDir = join(this.opts.cacheDir, 'transpiled', `${hash}.${TRANSPILE_REVISION}${wantJspi ? `.${JSPI_REVISION}` : ''}`);
    if (!existsSync(join(glueDir, COMPLETE))) await this.transpile(hash, ref, glueDir, wantJspi);
    const jspi = wantJspi && existsSync(join(glueDir, GLUE_MODE)) && readFileSync(join(glueDir, GLUE_MODE), 'utf8') === 'jspi';
    const files = readdirSync(glueDir).filter((n) => n.endsWith('.wasm'));
    const variants = new Map<number, Promise<Required<ComponentVariant>>>();
    this.variantMaps.push(variants);
    const variant = (memoryMb: number) => {
      let v = variants.get(memoryMb);
      if (!v) {
        v = compileVariant(hash, glueDir, files, memoryMb, this.opts.writeBarrier ?? true, jspi);
        variants.set(memoryMb, v);
        v.catch(() => variants.delete(memoryMb));
      }
      return v;
    };
    const loaded = { hash, glueDir, jspi, variant };
    this.opts.onLoaded?.(loaded);
    return loaded;
  }

  private async transpile(hash: string, ref: { tenantId: string; extensionId: string }, glueDir: string, jspi: boolean): Promise<void> {
    const bytes = await this.opts.source.load({ ...ref, contentHash: `sha256:${hash}` });
    if (!bytes) throw new BundleError(`bundle not found for content hash sha256:${hash}`);
    if (sha256Hex(bytes) !== hash) throw new BundleError(`bundle content does not match sha256:${hash}`);
    this.opts.onProgress?.(`transpiling component sha256:${hash.slice(0, 12)}… with jco`);
    const result = await transpileComponent(bytes, { jspi });
    const { files } = result;
    // Write beside the final folder and rename, so a concurrent process never sees half a transpile.
    const tmp = `${glueDir}.tmp-${process.pid}-${Date.now()}`;
    for (const [name, data] of Object.entries(files)) {
      if (name.endsWith('.d.ts')) continue;
      const out = join(tmp, name);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, data);
    }
    writeFileSync(join(tmp, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(tmp, GLUE_MODE), result.jspi ? 'jspi' : 'sync');
    writeFileSync(join(tmp, COMPLETE), '');
    mkdirSync(dirname(glueDir), { recursive: true });
    try {
      renameSync(tmp, glueDir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process won the race; its copy is identical
      if (!existsSync(join(glueDir, COMPLETE))) throw new BundleError(`could not store transpiled component sha256:${hash}`);
    }
  }
}

/** Rewrites (memory cap, state exports) and compiles each core module of a transpiled component. */
async function compileVariant(hash: string, glueDir: string, files: string[], memoryMb: number, writeBarrier: boolean, jspi: boolean): Promise<Required<ComponentVariant>> {
  const maxPages = Math.floor((memoryMb * 2 ** 20) / WASM_PAGE);
  const modules: Record<string, WebAssembly.Module> = {};
  const stateExports: Record<string, CoreStateExports> = {};
  for (const name of files) {
    const original = readFileSync(join(glueDir, name));
    const barrier = writeBarrier && multiMemorySupported() ? withBarrier(glueDir, name, original) : undefined;
    // The barrier's marks memory gets the cap too; it is never larger than the smallest cap (1 MB).
    const rewritten = rewriteCoreModule(barrier?.bytes ?? original, { maxPages, exportState: true });
    modules[name] = await WebAssembly.compile(rewritten.bytes);
    const state: CoreStateExports = { globals: rewritten.globalExports, tables: rewritten.tableExports };
    if (barrier?.bytes) state.marks = MARKS_EXPORT;
    else if (barrier?.reason !== 'no memory') state.unmarked = true;
    stateExports[name] = state;
  }
  return { key: `${hash}${jspi ? '.jspi' : ''}:${memoryMb}`, glueDir, jspi, modules, stateExports };
}

/** The module with the write barrier (sandbox/write-barrier.ts), or why it has none: the pass takes
 * ~0.5 s for the sample, so its result is kept beside the transpiled component. */
function withBarrier(glueDir: string, name: string, original: Uint8Array): { bytes?: Uint8Array; reason?: string } {
  const dir = join(glueDir, `barrier-r${BARRIER_REVISION}`);
  const marked = join(dir, name);
  const none = join(dir, `${name}.none`);
  if (existsSync(marked)) return { bytes: readFileSync(marked) };
  if (existsSync(none)) return { reason: readFileSync(none, 'utf8') };
  const r = addWriteBarrier(original);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${r.bytes ? marked : none}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, r.bytes ?? r.reason);
    renameSync(tmp, r.bytes ? marked : none); // atomic: a concurrent process writes the same bytes
  } catch {
    // A cache folder we cannot write: the next process runs the pass again.
  }
  return r;
}
