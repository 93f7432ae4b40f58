/**
 * A minimal, synchronous jco host for guest-side tests: transpiles a component (cached on disk by
 * content hash under `.alga/cache/test-transpiled`), and instantiates it in this thread with
 * hand-written stubs for every function of every `alga:extension/*` interface plus sandboxed WASI
 * from preview2-shim. It exists to test the guests (and the SDK bindings) through the real WIT
 * boundary without the runner; the runner has its own host (src/host/).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { projectRoot } from '../support/components.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyFn = (...args: any[]) => unknown;
export type ImportStubs = Record<string, Record<string, AnyFn>>;

export interface WitHttpHeader {
  name: string;
  value: string;
}
export interface GuestRequest {
  context: { requestId?: string; tenantId: string; extensionId: string; installId?: string; versionId?: string };
  http: { method: string; url: string; headers: WitHttpHeader[]; body?: Uint8Array };
}
export interface GuestResponse {
  status: number;
  headers: WitHttpHeader[];
  body?: Uint8Array;
}
export interface GuestInstance {
  handler(request: GuestRequest): GuestResponse;
}
export interface CallRecord {
  fn: string;
  args: unknown[];
}

const WA = (globalThis as any).WebAssembly as {
  Module: new (bytes: Uint8Array) => unknown;
  Instance: new (m: unknown, i: unknown) => unknown;
};

export const TEST_CONTEXT = {
  requestId: 'req-1',
  tenantId: 'tenant-1',
  extensionId: 'ext-1',
  installId: 'install-1',
  versionId: 'version-1',
};

/** Stubs for every function of the world with harmless defaults; `overrides` replace single functions
 * (keyed by jco's import name, e.g. `alga:extension/scheduler` → `listSchedules`). Every call is
 * recorded in `calls` as `<import>#<function>`. */
export function importStubs(calls: CallRecord[], overrides: ImportStubs = {}): ImportStubs {
  const defaults: ImportStubs = {
    'alga:extension/context': { getContext: () => ({ ...TEST_CONTEXT }) },
    'alga:extension/secrets': {
      get: () => {
        throw 'missing';
      },
      listKeys: () => [],
    },
    'alga:extension/http': {
      fetch: () => {
        throw 'not-allowed';
      },
    },
    'alga:extension/storage': {
      get: () => {
        throw 'missing';
      },
      put: (entry: any) => ({ ...entry, revision: 1n }),
      delete: () => undefined,
      listEntries: () => [],
    },
    'alga:extension/logging': { logInfo: () => undefined, logWarn: () => undefined, logError: () => undefined },
    'alga:extension/ui-proxy': {
      callRoute: () => {
        throw 'route-not-found';
      },
    },
    'alga:extension/user': {
      getUser: () => {
        throw 'not-available';
      },
    },
    'alga:extension/user-v2': {
      getUser: () => {
        throw 'not-available';
      },
    },
    'alga:extension/scheduler': {
      listSchedules: () => [],
      getSchedule: () => undefined,
      createSchedule: () => ({ success: true, scheduleId: '00000000-0000-4000-8000-000000000001' }),
      updateSchedule: () => ({ success: true }),
      deleteSchedule: () => ({ success: true }),
      getEndpoints: () => [],
    },
    'alga:extension/invoicing': {
      createManualInvoice: () => ({ success: false, error: 'Permission denied: cap:invoice.manual.create not granted' }),
    },
    'alga:extension/clients': {
      listClients: () => ({ items: [], totalCount: 0, page: 1, pageSize: 25 }),
      getClient: () => undefined,
    },
    'alga:extension/services': {
      listServices: () => ({ items: [], totalCount: 0, page: 1, pageSize: 25 }),
      getService: () => undefined,
    },
  };
  const out: ImportStubs = {};
  for (const [iface, fns] of Object.entries(defaults)) {
    out[iface] = {};
    for (const [name, fn] of Object.entries(fns)) {
      const impl = overrides[iface]?.[name] ?? fn;
      out[iface]![name] = (...args: unknown[]) => {
        calls.push({ fn: `${iface}#${name}`, args });
        return impl(...args);
      };
    }
  }
  return out;
}

type InstantiateFn = (getCoreModule: (name: string) => unknown, imports: unknown, instantiateCore: (m: unknown, i: unknown) => unknown) => any;

const loaded = new Map<string, Promise<{ instantiate: InstantiateFn; dir: string }>>();
const coreModules = new Map<string, unknown>();

async function loadTranspiled(wasmPath: string): Promise<{ instantiate: InstantiateFn; dir: string }> {
  const bytes = readFileSync(wasmPath);
  const hash = createHash('sha256').update(bytes).digest('hex');
  let p = loaded.get(hash);
  if (!p) {
    p = (async () => {
      const dir = join(projectRoot(), '.alga', 'cache', 'test-transpiled', hash);
      if (!existsSync(join(dir, 'component.js'))) {
        const { files } = await transpileBytes(bytes, { name: 'component', instantiation: 'async' });
        const tmp = `${dir}.${process.pid}.tmp`;
        rmSync(tmp, { recursive: true, force: true });
        for (const [name, data] of Object.entries(files)) {
          if (name.endsWith('.d.ts')) continue;
          mkdirSync(dirname(join(tmp, name)), { recursive: true });
          writeFileSync(join(tmp, name), data);
        }
        writeFileSync(join(tmp, 'package.json'), '{"type":"module"}\n');
        mkdirSync(dirname(dir), { recursive: true });
        try {
          renameSync(tmp, dir);
        } catch {
          rmSync(tmp, { recursive: true, force: true }); // another process won the race
        }
      }
      const mod = (await import(pathToFileURL(join(dir, 'component.js')).href)) as { instantiate: InstantiateFn };
      return { instantiate: mod.instantiate, dir };
    })();
    loaded.set(hash, p);
  }
  return p;
}

/** A fresh instance of the component with the given stubs (all other functions get defaults). */
export async function instantiateGuest(wasmPath: string, imports: ImportStubs): Promise<GuestInstance> {
  const { instantiate, dir } = await loadTranspiled(wasmPath);
  const wasi = new WASIShim({ sandbox: { preopens: {}, env: {}, args: ['guest'], enableNetwork: false } } as any).getImportObject();
  const getCoreModule = (name: string) => {
    const key = join(dir, name);
    let m = coreModules.get(key);
    if (!m) {
      m = new WA.Module(readFileSync(key));
      coreModules.set(key, m);
    }
    return m;
  };
  const exports = instantiate(getCoreModule, { ...wasi, ...imports }, (m, i) => new WA.Instance(m, i));
  if (typeof exports?.handler !== 'function') throw new Error('component has no handler export');
  return exports as GuestInstance;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function request(method: string, url: string, body?: unknown, headers: WitHttpHeader[] = []): GuestRequest {
  return {
    context: { ...TEST_CONTEXT },
    http: {
      method,
      url,
      headers,
      body: body === undefined ? undefined : enc.encode(typeof body === 'string' ? body : JSON.stringify(body)),
    },
  };
}

export function bodyJson(res: GuestResponse): any {
  return JSON.parse(dec.decode(res.body ?? new Uint8Array()));
}
