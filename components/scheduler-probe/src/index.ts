/**
 * scheduler-probe — a test component that drives any WIT import through the real component boundary
 * and reports what it observed, plus misbehaving routes for the runner's sandbox tests.
 *
 * Routes:
 * - POST /probe            body `{ "calls": [ { "fn": "<interface>.<function>", "args": [...] }, ... ] }`
 *                          → 200 `{ "results": [ { "ok": <value> } | { "err": <error payload> }, ... ] }`
 * - PUT  /probe/:tag       the same, for tests of PUT and path parameters (the tag is not echoed)
 * - GET  /echo, POST /echo what the guest received: `{ method, url, headers, body, bodyBase64, context }`
 * - PUT  /items/:id        `{ id, method, path, query, body }` (path-parameter routing)
 * - GET  /counter          increments a module-level counter and returns `{ counter }` (isolation tests)
 * - GET  /time             `{ now: Date.now(), iso, random: Math.random() }` (clocks / random present)
 * - POST /trap             throws from `handler` (an uncaught guest exception → trap)
 * - POST /loop             never returns
 * - POST /alloc            allocates 1 MiB blocks without bound; `{ "mb": N }` allocates N MiB and answers
 * - POST /big              answers a body of N bytes, N = body `{ "bytes": N }` or a bare number
 * - POST /recurse          unbounded recursion
 * - anything else          404 JSON
 *
 * Call conversion (JSON ⇄ WIT values):
 * - `fn` is `<interface>.<function>` in WIT kebab-case, e.g. `scheduler.create-schedule`, `user-v2.get-user`.
 * - `args` is the positional argument list. Record keys may be kebab-case or camelCase. A `list<u8>` is
 *   `{ "$bytes": "<base64>" }`, a `u64` is `{ "$u64": "123" }` (a JSON number is also accepted for the
 *   one u64 field, `storage-entry.revision`). `null` stands for an absent option.
 * - Results: Uint8Array → `{ "$bytes": "<base64>" }`, bigint → `{ "$u64": "<decimal>" }`,
 *   undefined → null; record keys are camelCase (as jco presents them).
 * - A WIT `result` error → `{ "err": <payload> }` (an enum case is its kebab-case string).
 * - Unknown fn → `{ "err": { "probe": "unknown function <fn>" } }`; any other exception thrown by the
 *   call (not a WIT error) → `{ "err": { "probe": "exception: <message>" } }`.
 */
import * as clients from 'alga:extension/clients';
import * as context from 'alga:extension/context';
import * as http from 'alga:extension/http';
import * as invoicing from 'alga:extension/invoicing';
import * as logging from 'alga:extension/logging';
import * as scheduler from 'alga:extension/scheduler';
import * as secrets from 'alga:extension/secrets';
import * as services from 'alga:extension/services';
import * as storage from 'alga:extension/storage';
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import * as uiProxy from 'alga:extension/ui-proxy';
import * as user from 'alga:extension/user';
import * as userV2 from 'alga:extension/user-v2';
import { witErrorPayload } from '../../sdk/host-bindings';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// base64 (own implementation: does not depend on atob/btoa being present in the guest)
// ---------------------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: Record<string, number> = {};
for (let i = 0; i < B64.length; i++) B64_INDEX[B64[i]!] = i;
B64_INDEX['-'] = 62;
B64_INDEX['_'] = 63;

function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return out;
}

function fromBase64(s: string): Uint8Array {
  const clean = s.replace(/[\s=]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64_INDEX[clean[i]!];
    if (v === undefined) throw new Error(`invalid base64 character ${JSON.stringify(clean[i])}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// JSON ⇄ WIT value conversion
// ---------------------------------------------------------------------------------------------

const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function fromJson(v: unknown): unknown {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$bytes' && typeof o.$bytes === 'string') return fromBase64(o.$bytes);
    if (keys.length === 1 && keys[0] === '$u64' && (typeof o.$u64 === 'string' || typeof o.$u64 === 'number')) return BigInt(o.$u64);
    const out: Record<string, unknown> = {};
    for (const k of keys) out[camel(k)] = fromJson(o[k]);
    return out;
  }
  return v;
}

function toJson(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return { $u64: v.toString() };
  // A list<u8> lifted by the guest bindings is a Uint8Array of another realm: `instanceof` fails.
  if (ArrayBuffer.isView(v)) return { $bytes: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJson(x);
    return out;
  }
  return v;
}

/** storage-entry.revision is the only u64 of the world: accept a plain number/string there too. */
function storageEntry(v: unknown): unknown {
  if (v && typeof v === 'object') {
    const e = v as Record<string, unknown>;
    if (typeof e.revision === 'number' || typeof e.revision === 'string') e.revision = BigInt(e.revision);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// the function table: every function of every imported interface
// ---------------------------------------------------------------------------------------------

type Fn = (a: unknown[]) => unknown;
/* eslint-disable @typescript-eslint/no-explicit-any */
const FUNCTIONS: Record<string, Fn> = {
  'context.get-context': () => context.getContext(),

  'secrets.get': (a) => secrets.get(a[0] as any),
  'secrets.list-keys': () => secrets.listKeys(),

  'http.fetch': (a) => http.fetch(a[0] as any),

  'storage.get': (a) => storage.get(a[0] as any, a[1] as any),
  'storage.put': (a) => storage.put(storageEntry(a[0]) as any),
  'storage.delete': (a) => storage.delete(a[0] as any, a[1] as any),
  'storage.list-entries': (a) => storage.listEntries(a[0] as any, a[1] as any),

  'logging.log-info': (a) => logging.logInfo(a[0] as any),
  'logging.log-warn': (a) => logging.logWarn(a[0] as any),
  'logging.log-error': (a) => logging.logError(a[0] as any),

  'ui-proxy.call-route': (a) => uiProxy.callRoute(a[0] as any, a[1] as any),

  'user.get-user': () => user.getUser(),
  'user-v2.get-user': () => userV2.getUser(),

  'scheduler.list-schedules': () => scheduler.listSchedules(),
  'scheduler.get-schedule': (a) => scheduler.getSchedule(a[0] as any),
  'scheduler.create-schedule': (a) => scheduler.createSchedule(a[0] as any),
  'scheduler.update-schedule': (a) => scheduler.updateSchedule(a[0] as any, a[1] as any),
  'scheduler.delete-schedule': (a) => scheduler.deleteSchedule(a[0] as any),
  'scheduler.get-endpoints': () => scheduler.getEndpoints(),

  'invoicing.create-manual-invoice': (a) => invoicing.createManualInvoice(a[0] as any),

  'clients.list-clients': (a) => clients.listClients(a[0] as any),
  'clients.get-client': (a) => clients.getClient(a[0] as any),

  'services.list-services': (a) => services.listServices(a[0] as any),
  'services.get-service': (a) => services.getService(a[0] as any),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

type CallResult = { ok: unknown } | { err: unknown };

function runCall(call: unknown): CallResult {
  const c = (call ?? {}) as { fn?: unknown; args?: unknown };
  const name = typeof c.fn === 'string' ? c.fn : String(c.fn);
  const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (!fn) return { err: { probe: `unknown function ${name}` } };
  let args: unknown[];
  try {
    args = Array.isArray(c.args) ? (c.args.map(fromJson) as unknown[]) : [];
  } catch (e) {
    return { err: { probe: `bad arguments: ${e instanceof Error ? e.message : String(e)}` } };
  }
  try {
    return { ok: toJson(fn(args)) };
  } catch (e) {
    const payload = witErrorPayload(e);
    if (payload !== undefined) return { err: toJson(payload) };
    return { err: { probe: `exception: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` } };
  }
}

// ---------------------------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------------------------

function respond(status: number, value: unknown): ExecuteResponse {
  return { status, headers: [{ name: 'content-type', value: 'application/json' }], body: encoder.encode(JSON.stringify(value)) };
}

function parseBody(request: ExecuteRequest): { ok: true; value: unknown } | { ok: false; error: string } {
  const b = request.http.body;
  if (!b || b.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(decoder.decode(b)) };
  } catch (e) {
    return { ok: false, error: `invalid JSON body: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function probe(request: ExecuteRequest): ExecuteResponse {
  const body = parseBody(request);
  if (!body.ok) return respond(400, { error: 'bad_request', message: body.error });
  const calls = (body.value as { calls?: unknown } | undefined)?.calls;
  if (!Array.isArray(calls)) return respond(400, { error: 'bad_request', message: 'body must be {"calls": [{"fn": "...", "args": [...]}]}' });
  return respond(200, { results: calls.map(runCall) });
}

let counter = 0;
let hoard: Uint8Array[] = [];

function numberFrom(v: unknown, key: string): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && typeof (v as Record<string, unknown>)[key] === 'number') return (v as Record<string, number>)[key];
  return undefined;
}

function recurse(n: number): number {
  return recurse(n + 1) + 1;
}

export function handler(request: ExecuteRequest): ExecuteResponse {
  const method = (request.http.method || 'GET').toUpperCase();
  const url = request.http.url || '/';
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q + 1) : '';
  const parts = path.split('/').filter((s) => s.length > 0);
  const route = `${method} /${parts.join('/')}`;

  if (route === 'POST /probe' || (method === 'PUT' && parts.length === 2 && parts[0] === 'probe')) return probe(request);

  if (route === 'GET /echo' || route === 'POST /echo') {
    const b = request.http.body;
    return respond(200, {
      method: request.http.method,
      url: request.http.url,
      headers: request.http.headers,
      body: b ? decoder.decode(b) : null,
      bodyBase64: b ? toBase64(b) : null,
      context: toJson(request.context),
    });
  }

  if (method === 'PUT' && parts.length === 2 && parts[0] === 'items') {
    const body = parseBody(request);
    let id = parts[1]!;
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep raw
    }
    return respond(200, { id, method, path, query, body: body.ok ? (body.value ?? null) : null });
  }

  if (route === 'GET /counter') {
    counter += 1;
    return respond(200, { counter });
  }

  if (route === 'GET /time') {
    const now = Date.now();
    return respond(200, { now, iso: new Date(now).toISOString(), random: Math.random() });
  }

  if (route === 'POST /trap') {
    throw new Error('boom');
  }

  if (route === 'POST /loop') {
    let x = 0;
    for (;;) {
      x = (x + 1) | 0;
      if (x === -1) counter = x; // never true in practice; keeps the loop observable
    }
  }

  if (route === 'POST /alloc') {
    const body = parseBody(request);
    const mb = body.ok ? numberFrom(body.value, 'mb') : undefined;
    if (mb !== undefined) {
      const blocks: Uint8Array[] = [];
      for (let i = 0; i < mb; i++) {
        const b = new Uint8Array(1 << 20);
        b[0] = i & 0xff;
        b[b.length - 1] = 1;
        blocks.push(b);
      }
      return respond(200, { allocatedMb: blocks.length });
    }
    hoard = [];
    for (let i = 0; ; i++) {
      const b = new Uint8Array(1 << 20);
      b[i % b.length] = 1;
      hoard.push(b);
    }
  }

  if (route === 'POST /big') {
    const body = parseBody(request);
    const n = body.ok ? numberFrom(body.value, 'bytes') : undefined;
    if (n === undefined || !Number.isFinite(n) || n < 0) return respond(400, { error: 'bad_request', message: 'body must be {"bytes": N} or N' });
    const out = new Uint8Array(Math.floor(n));
    out.fill(0x78); // 'x'
    return { status: 200, headers: [{ name: 'content-type', value: 'application/octet-stream' }], body: out };
  }

  if (route === 'POST /recurse') {
    return respond(200, { depth: recurse(0) });
  }

  return respond(404, { error: 'not_found', message: `No handler for ${method} ${path}` });
}
