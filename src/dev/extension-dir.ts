/**
 * An extension folder: `manifest.json` plus a way to get its component. `buildExtensionDir` picks,
 * in this order:
 *  1. `--build "<command>"` (choice `command`): run it in the folder, serve the manifest's `main`;
 *  2. `--no-build` (choice `none`): serve the prebuilt file at the manifest's `main`;
 *  3. the folder's own build: a `package.json` with a `build` script → `npm run build`, then `main`;
 *  4. our build of the guest sources (`manifest.source`, `src/index.ts`, `src/index.js`) with
 *     componentize-js, cached by a hash of sources + WIT;
 *  5. a prebuilt file at `main` when there are no sources.
 * The folder's build output is passed on line by line (`onOutput`), so the user sees it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildComponent, ComponentBuildError } from '../build/componentize.js';
import { ManifestError, parseManifest, type Manifest } from '../server/registry/manifest.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WIT_DIR = join(PROJECT_ROOT, 'wit');

export class ExtensionDirError extends Error {
  override name = 'ExtensionDirError';
  constructor(
    message: string,
    /** Which step failed: reading the manifest, the folder's own build, our build, or finding the component. */
    readonly phase: 'manifest' | 'own-build' | 'build' | 'component' = 'component',
    /** For a syntax error in our build: where. */
    readonly location?: { file: string; line: number; column: number },
  ) {
    super(message);
  }
}

export function readManifest(path: string): Manifest {
  if (!existsSync(path)) throw new ExtensionDirError(`no manifest at ${path}`, 'manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ExtensionDirError(`${path} is not valid JSON: ${(e as Error).message}`, 'manifest');
  }
  try {
    return parseManifest(raw, path);
  } catch (e) {
    if (e instanceof ManifestError) throw new ExtensionDirError(e.message, 'manifest');
    throw e;
  }
}

/** How to get the component: the folder decides (`auto`), a command, or the prebuilt file. */
export type BuildChoice = { kind: 'auto' } | { kind: 'command'; command: string } | { kind: 'none' };

export type BuildOrigin =
  /** Our build of the guest sources (componentize-js). */
  | { kind: 'built'; entry: string; fromCache: boolean }
  /** The folder's own build (`npm run build`, or `--build`), then the file at `main`. */
  | { kind: 'own-build'; command: string; why: 'package.json' | '--build'; path: string }
  /** The file at `main`, unbuilt (`--no-build`, or a folder without sources). */
  | { kind: 'prebuilt'; path: string; why: '--no-build' | 'no-sources' };

export interface LoadedExtension {
  /** Absolute path of the folder. */
  dir: string;
  manifest: Manifest;
  component: Uint8Array;
  /** Where the component came from. */
  origin: BuildOrigin;
  /** How long getting the component took (ms), the build's own time. */
  buildMs: number;
}

export interface BuildExtensionOptions {
  build?: BuildChoice;
  /** The component cache of our build (`<cacheDir>/components`). */
  cacheDir: string;
  /** Our own progress lines (which build, cache hits, componentize). */
  onProgress?: (msg: string) => void;
  /** The folder's build command output, one line at a time. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** One line for the startup output: which build produced the component. */
export function describeOrigin(x: LoadedExtension): string {
  const rel = (p: string) => relative(x.dir, p) || p;
  switch (x.origin.kind) {
    case 'built':
      return `built by alga-runner from ${rel(x.origin.entry)} (componentize-js${x.origin.fromCache ? ', from the build cache' : ''})`;
    case 'own-build':
      return `built by the folder's own build: \`${x.origin.command}\` (${x.origin.why === 'package.json' ? 'package.json "build" script' : '--build'}), serving ${rel(x.origin.path)}`;
    case 'prebuilt':
      return `serving the prebuilt ${rel(x.origin.path)} (${x.origin.why === '--no-build' ? '--no-build' : 'no sources to build'})`;
  }
}

function hasBuildScript(root: string): boolean {
  const pkg = join(root, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    const scripts = (JSON.parse(readFileSync(pkg, 'utf8')) as { scripts?: Record<string, unknown> }).scripts;
    return typeof scripts?.build === 'string' && scripts.build.trim() !== '';
  } catch (e) {
    throw new ExtensionDirError(`${pkg} is not valid JSON: ${(e as Error).message}`, 'own-build');
  }
}

/** Runs a build command in the folder (through the shell), passing its output on line by line. */
async function runBuildCommand(command: string, cwd: string, onOutput: BuildExtensionOptions['onOutput']): Promise<void> {
  const child = spawn(command, { cwd, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const lines = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = parts.pop()!;
      for (const l of parts) {
        tail.push(l);
        if (tail.length > 20) tail.shift();
        onOutput?.(l, stream);
      }
    };
  };
  const out = lines('stdout');
  const err = lines('stderr');
  child.stdout.on('data', out);
  child.stderr.on('data', err);
  const code = await new Promise<number | string>((res) => {
    child.once('error', (e) => res(e.message));
    child.once('close', (c, sig) => res(c ?? sig ?? 1));
  });
  out(Buffer.from('\n'));
  err(Buffer.from('\n'));
  if (code !== 0) {
    const shown = tail.filter((l) => l.trim()).join('\n');
    throw new ExtensionDirError(`\`${command}\` in ${cwd} failed (${typeof code === 'number' ? `exit code ${code}` : code})${shown ? `:\n${shown}` : ''}`, 'own-build');
  }
}

/** Reads the component at the manifest's `main`; a missing file or a core module says what to do. */
function readComponent(path: string, manifest: Manifest, after: string): Uint8Array {
  if (!existsSync(path)) {
    throw new ExtensionDirError(`component missing: ${path} (manifest.json "main": "${manifest.main}") does not exist ${after}`, 'component');
  }
  const bytes = new Uint8Array(readFileSync(path));
  // \0asm, then version: 01 00 00 00 is a core module, 0d 00 01 00 a component.
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new ExtensionDirError(`${path} is not WebAssembly (manifest.json "main": "${manifest.main}")`, 'component');
  }
  if (bytes[4] === 1 && bytes[6] === 0) {
    throw new ExtensionDirError(`${path} is a core WebAssembly module, not a component of world alga:extension/runner (build it with componentize-js or jco componentize)`, 'component');
  }
  return bytes;
}

/** The guest sources our build would use, or undefined. */
export function sourceEntry(root: string, manifest: Manifest): string | undefined {
  const candidates = [manifest.source, 'src/index.ts', 'src/index.js'].filter((s): s is string => !!s).map((s) => join(root, s));
  return candidates.find((c) => existsSync(c));
}

/**
 * Builds an extension folder its way (see the module comment) and returns its manifest and
 * component. Errors are `ExtensionDirError`s saying which step failed; a syntax error in our build
 * carries its file and line.
 */
export async function buildExtensionDir(dir: string, opts: BuildExtensionOptions): Promise<LoadedExtension> {
  const root = resolve(dir);
  const t0 = performance.now();
  const manifest = readManifest(join(root, 'manifest.json'));
  const main = join(root, manifest.main);
  const choice = opts.build ?? { kind: 'auto' };
  const done = (component: Uint8Array, origin: BuildOrigin): LoadedExtension => ({ dir: root, manifest, component, origin, buildMs: performance.now() - t0 });

  if (choice.kind === 'none') return done(readComponent(main, manifest, '(--no-build serves the prebuilt file: build it first)'), { kind: 'prebuilt', path: main, why: '--no-build' });
  const own = choice.kind === 'command' ? { command: choice.command, why: '--build' as const } : hasBuildScript(root) ? { command: 'npm run build', why: 'package.json' as const } : undefined;
  if (own) {
    opts.onProgress?.(`building ${manifest.name}: \`${own.command}\` in ${root}`);
    await runBuildCommand(own.command, root, opts.onOutput);
    return done(readComponent(main, manifest, `after \`${own.command}\` (does the build write it there?)`), { kind: 'own-build', path: main, ...own });
  }
  const entry = sourceEntry(root, manifest);
  if (entry) {
    opts.onProgress?.(`building ${manifest.name} from ${entry} (componentize-js; cached by source hash)`);
    try {
      const built = await buildComponent({ entry, witDir: WIT_DIR, cacheDir: join(opts.cacheDir, 'components'), onProgress: opts.onProgress });
      return done(new Uint8Array(readFileSync(built.wasmPath)), { kind: 'built', entry, fromCache: built.fromCache });
    } catch (e) {
      if (e instanceof ComponentBuildError) throw new ExtensionDirError(e.message, 'build', e.location);
      throw e;
    }
  }
  if (existsSync(main)) return done(readComponent(main, manifest, ''), { kind: 'prebuilt', path: main, why: 'no-sources' });
  throw new ExtensionDirError(
    `component missing: ${root} has no package.json "build" script, no sources (${[manifest.source, 'src/index.ts', 'src/index.js'].filter(Boolean).join(', ')}) and no component at ${main} (manifest.json "main")`,
    'component',
  );
}

/** Earlier name of `buildExtensionDir`. */
export const loadExtensionDir = buildExtensionDir;
