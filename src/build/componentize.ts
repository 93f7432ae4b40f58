/**
 * # src/build — building extension components from source
 *
 * `buildComponent({ entry, witDir, cacheDir })` turns a guest written in TypeScript or JavaScript into a
 * WebAssembly component of world `alga:extension/runner`:
 *
 * 1. **Bundle** the entry with esbuild into one ES module (format esm, platform neutral, target es2022;
 *    TypeScript is stripped by esbuild, no type check — run `npm run check:components` for that).
 *    `alga:extension/*` imports stay external: they are the component's WIT imports.
 * 2. **Hash** the bundle, every file of the WIT folder, the build options and the componentize-js
 *    version (sha256). The component is cached as `<cacheDir>/<hash>.wasm`; a cache hit skips step 3.
 * 3. **Componentize** the bundle with componentize-js (`worldName: 'runner'`). This runs in a child
 *    process (componentize-child.ts): componentize-js blocks its thread for ~10 s (wizer through
 *    `spawnSync`) and needs preview2-shim's process-global `/` preopen, which must not leak into the
 *    runner's WASI host.
 *    Clocks, random and stdio stay enabled (`Date.now()` is real, `Math.random()` works:
 *    docs/differences.md#guest-clocks), and so does `http` (the guest's `fetch()`, under the egress
 *    rules of docs/differences.md#egress); by default only `fetch-event` is disabled.
 * 4. **Write** atomically (temporary file + rename), so a concurrent reader never sees half a file.
 *    Builders of the same hash coordinate through `<hash>.lock` (created exclusively; a lock whose
 *    owner died or that is older than 10 minutes is taken over), so two processes do not spend the
 *    CPU twice; within one process concurrent calls for the same hash share one build.
 *
 * Errors are `ComponentBuildError`s: a bundle error names file:line:column of the first esbuild error
 * (`/abs/src/index.ts:12:7: Expected ";" but found "x"`); a componentize error carries its message.
 *
 * The content hash of the built bytes (`sha256:<hex>`, what `extension_bundle.content_hash` and the
 * `/v1/execute` envelope carry) is `contentHashOf` in src/shared/content-hash.ts.
 *
 * Other exports: `planBuild(opts)` (steps 1–2 only: bundle, hash, whether it is cached — ~100 ms),
 * `bundleGuest(entry)`, `componentizeJsVersion()`, `ComponentBuildError`, `KNOWN_FEATURES`,
 * `DEFAULT_DISABLED_FEATURES`.
 *
 * Guest-side facts (verified by test/build/guest-smoke.test.ts): a WIT `result` error reaches the guest
 * as a thrown `ComponentError` (an `Error` whose `payload` is the error value, e.g. `'denied'`), and a
 * lifted `list<u8>` is a Uint8Array of another realm (`instanceof Uint8Array` is false inside the guest;
 * use `ArrayBuffer.isView`). components/sdk/host-bindings.ts normalises the former.
 *
 * Example:
 * ```ts
 * const { wasmPath, hash, fromCache } = await buildComponent({
 *   entry: '/abs/components/scheduler-demo/src/index.ts',
 *   witDir: '/abs/wit',
 *   cacheDir: '/abs/.alga/cache/components',
 *   onProgress: (m) => console.log(m),
 * });
 * ```
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComponentizeJob, ComponentizeReply } from './componentize-child.js';
import { processAlive } from '../shared/process-alive.js';

export interface BuildComponentOptions {
  /** Absolute path of the guest's entry module (.ts, .mts, .js or .mjs); it must export `handler`. */
  entry: string;
  /** Folder holding the WIT package that declares world `runner`. */
  witDir: string;
  /** Folder of the component cache (created if missing). */
  cacheDir: string;
  /** componentize-js features to disable; default `['fetch-event']`. */
  disableFeatures?: string[];
  onProgress?: (msg: string) => void;
}

export interface BuiltComponent {
  /** `<cacheDir>/<hash>.wasm`. */
  wasmPath: string;
  /** Cache key: sha256 hex of bundle + WIT + options + componentize-js version. Not the content hash
   * of the component bytes — use `contentHashOf` (src/shared/content-hash.ts) for that. */
  hash: string;
  fromCache: boolean;
}

export class ComponentBuildError extends Error {
  override name = 'ComponentBuildError';
  constructor(
    message: string,
    readonly phase: 'bundle' | 'componentize' | 'options',
    /** For bundle errors: the file, line (1-based) and column (0-based) of the first error. */
    readonly location?: { file: string; line: number; column: number },
  ) {
    super(message);
  }
}

/** Features componentize-js knows (`DEFAULT_FEATURES` of componentize-js). */
export const KNOWN_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;
/** `fetch-event` is an incoming-HTTP export the runner's world does not have; `http` stays on: it is
 * the guest's `fetch()`, which the runner answers under the egress rules (docs/differences.md#egress). */
export const DEFAULT_DISABLED_FEATURES = ['fetch-event'];
const WORLD_NAME = 'runner';
/** Bumped when this module changes what it feeds componentize-js. */
const BUILD_FORMAT = 'alga-build-v1';
const LOCK_STALE_MS = 10 * 60_000;
const LOCK_POLL_MS = 250;

let cachedComponentizeVersion: string | undefined;
/** The installed componentize-js version (read from its package.json, without loading the module). */
export function componentizeJsVersion(): string {
  if (!cachedComponentizeVersion) {
    // The package's "exports" hide package.json: find the package folder as Node does, in the
    // node_modules of this file's folder or a parent (not import.meta.resolve, which test runners
    // that transform this module, such as vitest, do not provide).
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', '@bytecodealliance', 'componentize-js', 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@bytecodealliance/componentize-js' && pkg.version) {
          cachedComponentizeVersion = pkg.version;
          break;
        }
      } catch {
        // keep walking up
      }
      const up = dirname(dir);
      if (up === dir) throw new Error('cannot find the version of @bytecodealliance/componentize-js');
      dir = up;
    }
  }
  return cachedComponentizeVersion;
}

/** Bundles a guest entry to one ES module (the text componentize-js receives). */
export async function bundleGuest(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const workDir = dirname(entry);
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      absWorkingDir: workDir,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      external: ['alga:extension/*'],
      logLevel: 'silent',
      charset: 'utf8',
      legalComments: 'none',
    });
  } catch (err) {
    throw bundleError(entry, workDir, err);
  }
  const out = result.outputFiles?.[0];
  if (!out) throw new ComponentBuildError(`bundling ${entry} produced no output`, 'bundle');
  return out.text;
}

function bundleError(entry: string, workDir: string, err: unknown): ComponentBuildError {
  const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number; lineText?: string } | null }> }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const lines = errors.slice(0, 5).map((e) => {
      if (!e.location) return e.text;
      const file = isAbsolute(e.location.file) ? e.location.file : resolve(workDir, e.location.file);
      return `${file}:${e.location.line}:${e.location.column}: ${e.text}`;
    });
    const more = errors.length > 5 ? `\n… and ${errors.length - 5} more` : '';
    const first = errors[0]!.location;
    const location = first
      ? { file: isAbsolute(first.file) ? first.file : resolve(workDir, first.file), line: first.line, column: first.column }
      : undefined;
    return new ComponentBuildError(`bundling ${entry} failed:\n${lines.join('\n')}${more}`, 'bundle', location);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new ComponentBuildError(`bundling ${entry} failed: ${msg}`, 'bundle');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...(await listFiles(p)));
    else if (ent.isFile()) out.push(p);
  }
  return out;
}

/** Hash of everything that determines the component. */
async function buildHash(bundle: string, witDir: string, disableFeatures: string[]): Promise<string> {
  const h = createHash('sha256');
  const field = (name: string, value: string | Uint8Array) => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    h.update(`${name}\0${bytes.length}\0`);
    h.update(bytes);
  };
  field('format', BUILD_FORMAT);
  field('componentize-js', componentizeJsVersion());
  field('options', JSON.stringify({ worldName: WORLD_NAME, disableFeatures }));
  field('bundle', bundle);
  const files = (await listFiles(witDir)).map((f) => ({ rel: relative(witDir, f).split(sep).join('/'), abs: f }));
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const f of files) field(`wit:${f.rel}`, await fsp.readFile(f.abs));
  return h.digest('hex');
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Takes `<lockPath>` exclusively; waits while another live builder holds it. Returns a release
 * function, or null if the wanted file appeared meanwhile (another builder finished). */
async function acquireLock(lockPath: string, wanted: string, onWait: () => void): Promise<(() => Promise<void>) | null> {
  let told = false;
  for (;;) {
    if (await exists(wanted)) return null;
    try {
      const fh = await fsp.open(lockPath, 'wx');
      await fh.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
      await fh.close();
      return async () => {
        await fsp.rm(lockPath, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // Someone holds it: take it over if its owner is gone or it is too old.
    try {
      const [text, st] = await Promise.all([fsp.readFile(lockPath, 'utf8'), fsp.stat(lockPath)]);
      let owner: number | undefined;
      try {
        owner = (JSON.parse(text) as { pid?: number }).pid;
      } catch {
        owner = undefined; // being written right now, or garbage: judged by age
      }
      const age = Date.now() - st.mtimeMs;
      const dead = owner !== undefined && owner !== process.pid && !processAlive(owner);
      if (dead || age > LOCK_STALE_MS) {
        await fsp.rm(lockPath, { force: true });
        continue;
      }
    } catch {
      continue; // vanished between open and read: retry at once
    }
    if (!told) {
      onWait();
      told = true;
    }
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

/** Runs componentize-js in a child process (see componentize-child.ts); resolves the byte count. */
function runComponentizeProcess(job: ComponentizeJob): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(fileURLToPath(new URL('./componentize-child.js', import.meta.url)), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let reply: ComponentizeReply | undefined;
    child.once('message', (m: ComponentizeReply) => {
      reply = m;
    });
    child.once('error', (err) => reject(new ComponentBuildError(`componentize process failed to start: ${err.message}`, 'componentize')));
    child.once('exit', (code, signal) => {
      const tail = output.trim() ? `\n${output.trim().split('\n').slice(-20).join('\n')}` : '';
      if (reply?.ok) resolvePromise(reply.bytes);
      else if (reply) reject(new ComponentBuildError(`componentize failed: ${reply.message}${tail}`, 'componentize'));
      else reject(new ComponentBuildError(`componentize process exited (${signal ?? `code ${code}`}) without an answer${tail}`, 'componentize'));
    });
    child.send(job);
  });
}

const inFlight = new Map<string, Promise<BuiltComponent>>();

export interface BuildPlan {
  entry: string;
  witDir: string;
  cacheDir: string;
  disableFeatures: string[];
  /** The bundled guest (what componentize-js receives). */
  bundle: string;
  hash: string;
  wasmPath: string;
  /** Whether `<cacheDir>/<hash>.wasm` exists now. */
  cached: boolean;
}

/** Validates the options, bundles the entry and computes the cache key — everything but
 * componentize. Cheap (~100 ms): use it to learn whether a build is needed. */
export async function planBuild(opts: BuildComponentOptions): Promise<BuildPlan> {
  const entry = resolve(opts.entry);
  const witDir = resolve(opts.witDir);
  const cacheDir = resolve(opts.cacheDir);
  const disableFeatures = [...new Set(opts.disableFeatures ?? DEFAULT_DISABLED_FEATURES)].sort();
  const unknown = disableFeatures.filter((f) => !(KNOWN_FEATURES as readonly string[]).includes(f));
  if (unknown.length) {
    throw new ComponentBuildError(`unknown componentize-js feature(s): ${unknown.join(', ')} (known: ${KNOWN_FEATURES.join(', ')})`, 'options');
  }
  if (!(await exists(entry))) throw new ComponentBuildError(`entry not found: ${entry}`, 'options');
  if (!(await exists(witDir))) throw new ComponentBuildError(`WIT folder not found: ${witDir}`, 'options');
  const bundle = await bundleGuest(entry);
  const hash = await buildHash(bundle, witDir, disableFeatures);
  const wasmPath = join(cacheDir, `${hash}.wasm`);
  return { entry, witDir, cacheDir, disableFeatures, bundle, hash, wasmPath, cached: await exists(wasmPath) };
}

/** Builds (or finds in the cache) the component of a guest entry. See the module comment. */
export async function buildComponent(opts: BuildComponentOptions): Promise<BuiltComponent> {
  const progress = opts.onProgress ?? (() => {});
  const t0 = Date.now();
  progress(`bundling ${resolve(opts.entry)}`);
  const { witDir, cacheDir, disableFeatures, bundle, hash, wasmPath } = await planBuild(opts);
  progress(`bundled ${(Buffer.byteLength(bundle) / 1024).toFixed(1)} KiB in ${Date.now() - t0} ms; build hash ${hash.slice(0, 12)}`);

  if (await exists(wasmPath)) {
    progress(`cache hit: ${wasmPath}`);
    return { wasmPath, hash, fromCache: true };
  }

  const pending = inFlight.get(wasmPath);
  if (pending) {
    progress('same build already running in this process; waiting for it');
    const r = await pending;
    return { ...r, fromCache: true };
  }
  const p = (async (): Promise<BuiltComponent> => {
    await fsp.mkdir(cacheDir, { recursive: true });
    const release = await acquireLock(join(cacheDir, `${hash}.lock`), wasmPath, () =>
      progress('another process is building this component; waiting for it'),
    );
    if (!release) {
      progress(`built by another process: ${wasmPath}`);
      return { wasmPath, hash, fromCache: true };
    }
    const work = await fsp.mkdtemp(join(tmpdir(), 'alga-build-'));
    try {
      if (await exists(wasmPath)) return { wasmPath, hash, fromCache: true };
      const sourcePath = join(work, 'bundle.js');
      await fsp.writeFile(sourcePath, bundle);
      const t1 = Date.now();
      progress(`componentizing (componentize-js ${componentizeJsVersion()}, disabled: ${disableFeatures.join(', ') || 'none'}) — this takes ~10 s`);
      const tmp = join(cacheDir, `.${hash}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        const bytes = await runComponentizeProcess({ sourcePath, witPath: witDir, worldName: WORLD_NAME, disableFeatures, outPath: tmp });
        await fsp.rename(tmp, wasmPath);
        progress(`componentized in ${((Date.now() - t1) / 1000).toFixed(1)} s: ${wasmPath} (${(bytes / 1048576).toFixed(1)} MiB)`);
      } finally {
        await fsp.rm(tmp, { force: true }).catch(() => {});
      }
      return { wasmPath, hash, fromCache: false };
    } finally {
      await fsp.rm(work, { recursive: true, force: true }).catch(() => {});
      await release();
    }
  })();
  inFlight.set(wasmPath, p);
  try {
    return await p;
  } finally {
    inFlight.delete(wasmPath);
  }
}
