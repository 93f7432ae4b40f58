/** Shared by the benchmarks: test components built from source, a runner over them, an in-thread
 * instance of a component (the baselines), and small statistics helpers. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { buildComponent } from '../src/build/componentize.js';
import { ComponentCache } from '../src/host/component-cache.js';
import { sha256Hex } from '../src/shared/content-hash.js';
import { createRunner, type Runner, type RunnerOptions } from '../src/host/runner.js';
import { CoreInstantiation } from '../src/host/sandbox/snapshot.js';
import type { GuestExports } from '../src/host/sandbox/ready-instances.js';
import { WORLD_IMPORTS } from '../src/host/world.js';
import type { ExecuteResponseBody } from '../src/shared/execute-envelope.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE_DIR = join(ROOT, '.alga', 'cache');

export interface BenchComponent {
  name: string;
  bytes: Uint8Array;
  contentHash: string;
}

export async function component(name: 'scheduler-probe' | 'scheduler-demo'): Promise<BenchComponent> {
  const built = await buildComponent({ entry: join(ROOT, 'components', name, 'src', 'index.ts'), witDir: join(ROOT, 'wit'), cacheDir: join(CACHE_DIR, 'components') });
  const bytes = new Uint8Array(readFileSync(built.wasmPath));
  return { name, bytes, contentHash: `sha256:${sha256Hex(bytes)}` };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function runnerFor(c: BenchComponent, opts: Partial<RunnerOptions> = {}): Runner {
  return createRunner({ cacheDir: CACHE_DIR, components: { load: async () => c.bytes }, ...opts });
}

export function call(runner: Runner, c: BenchComponent, method: string, path: string, body?: unknown): Promise<ExecuteResponseBody> {
  return runner.execute(
    { 'x-alga-tenant': 'bench', 'x-alga-extension': c.name },
    {
      context: { tenant_id: 'bench', extension_id: c.name, install_id: '22222222-2222-4222-8222-222222222222', content_hash: c.contentHash },
      http: { method, path, body_b64: body === undefined ? undefined : Buffer.from(JSON.stringify(body)).toString('base64') },
    },
  );
}

export function check(r: ExecuteResponseBody): void {
  if (r.error || r.status >= 400) throw new Error(`execution failed: ${r.status} ${r.error}`);
}

/** The component instantiated in this thread, with the given alga:extension imports. */
export async function inThread(c: BenchComponent, alga: Record<string, Record<string, (...a: unknown[]) => unknown>> = stubAlga(), writeBarrier = true) {
  const cache = new ComponentCache({ cacheDir: CACHE_DIR, source: { load: async () => c.bytes }, writeBarrier });
  const loaded = await cache.get({ tenantId: 'bench', extensionId: c.name, contentHash: c.contentHash });
  const variant = await loaded.variant(256);
  const mod = (await import(pathToFileURL(join(variant.glueDir, 'component.js')).href)) as {
    instantiate(g: (n: string) => WebAssembly.Module, i: unknown, c: (m: WebAssembly.Module, i: WebAssembly.Imports) => { exports: WebAssembly.Exports }): GuestExports;
  };
  const wasi = new WASIShim({ sandbox: { preopens: {}, env: {}, args: ['x'], enableNetwork: false } } as ConstructorParameters<typeof WASIShim>[0]).getImportObject();
  const nameOf = new Map([...Object.entries(variant.modules)].map(([n, m]) => [m, n]));
  const create = () => {
    const cores = new CoreInstantiation((m) => variant.stateExports[nameOf.get(m)!], Object.values(variant.stateExports).some((s) => s.marks !== undefined));
    const guest = mod.instantiate((n) => variant.modules[n]!, { ...wasi, ...alga }, cores.instantiateCore);
    return { guest, cores: cores.cores, marked: cores.marked };
  };
  return { create };
}

export function stubAlga(overrides: Record<string, Record<string, (...a: unknown[]) => unknown>> = {}) {
  const out: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
  for (const [iface, fns] of Object.entries(WORLD_IMPORTS)) {
    out[iface] = {};
    for (const fn of fns) out[iface]![fn] = overrides[iface]?.[fn] ?? (() => { throw new Error(`${iface}#${fn} not stubbed`); });
  }
  return out;
}

export const witRequest = (method: string, url: string, body?: unknown) => ({
  context: { requestId: 'bench', tenantId: 'bench', extensionId: 'bench' },
  http: { method, url, headers: [], body: body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body)) },
});

/** Runs `fn` repeatedly for `ms` (after `warmup` calls); returns calls per second. */
export async function rate(ms: number, fn: () => Promise<unknown> | unknown, warmup = 20): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const end = performance.now() + ms;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Every query any pg client in this process sends (node-postgres sends one per round trip), counted
// once the first bench asks.
let pgQueries = 0;
let counting = false;
/** How many Postgres round trips `fn` makes. */
export async function roundTripsOf(fn: () => Promise<unknown>): Promise<number> {
  if (!counting) {
    counting = true;
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      pgQueries++;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
  }
  const before = pgQueries;
  await fn();
  return pgQueries - before;
}
export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
