/**
 * Test components built from source (components/<name>/src/index.ts) into the project-local cache
 * `.alga/cache/components` (gitignored), so repeated test runs — and test files running in parallel
 * processes — reuse one build: `buildComponent` shares builds within a process and coordinates
 * processes with a lock file, and writes atomically.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildComponent } from '../../src/build/componentize.js';

export type TestComponentName = 'scheduler-demo' | 'scheduler-probe' | 'kv-notes' | 'platform-demo' | 'fetch-probe';

export interface TestComponent {
  wasmPath: string;
  manifestPath: string;
  /** Build-cache key (sha256 hex of sources + WIT + options), not the content hash of the bytes. */
  hash: string;
}

let root: string | undefined;
/** The repository root (the folder whose package.json is alga-node-runner's). */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'alga-node-runner') return (root = dir);
      } catch {
        // keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the alga-node-runner project root');
    dir = up;
  }
}

/** Copies components/<name> and the SDK it imports (`../../sdk`) into `<work>/components`, for a test that edits its sources; returns the copy's folder. */
export function copyExtension(name: string, work: string): string {
  const dir = join(work, 'components', name);
  cpSync(join(projectRoot(), 'components', name), dir, { recursive: true });
  cpSync(join(projectRoot(), 'components', 'sdk'), join(work, 'components', 'sdk'), { recursive: true });
  return dir;
}

export function componentCacheDir(): string {
  return join(projectRoot(), '.alga', 'cache', 'components');
}

const builds = new Map<TestComponentName, Promise<TestComponent>>();

export function buildTestComponent(name: TestComponentName): Promise<TestComponent> {
  let p = builds.get(name);
  if (!p) {
    const r = projectRoot();
    const dir = join(r, 'components', name);
    p = buildComponent({
      entry: join(dir, 'src', 'index.ts'),
      witDir: join(r, 'wit'),
      cacheDir: componentCacheDir(),
      onProgress: process.env.ALGA_BUILD_VERBOSE ? (m) => process.stderr.write(`[build ${name}] ${m}\n`) : undefined,
    }).then((b) => ({ wasmPath: b.wasmPath, manifestPath: join(dir, 'manifest.json'), hash: b.hash }));
    p.catch(() => builds.delete(name));
    builds.set(name, p);
  }
  return p;
}
