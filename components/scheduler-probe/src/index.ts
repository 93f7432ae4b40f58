/**
 * scheduler-probe — a test component that drives any WIT import through the real component boundary
 * and reports what it observed, plus misbehaving routes for the runner's sandbox tests.
 *
 * Routes:
 * - POST /probe            body `{ "calls": [ { "fn": "<interface>.<function>", "args": [...] }, ... ] }`
 *                          → 200 `{ "results": [ { "ok": <value> } | { "err": <error payload> }, ... ] }`
 * - PUT  /probe/:tag       the same, for tests of PUT and path parameters (the tag is not echoed)
 * - POST /time-calls       body `{ "fn": "<interface>.<function>", "args": [...], "n": N }`: N calls of the
 *                          import, then N calls of a guest-local function of the same shape (it returns a
 *                          copy of the import's first answer, or throws its error), each loop timed with
 *                          `performance.now()` in the guest → `{ n, importMs, localMs, addedUs }`
 *                          (`addedUs` = what one import call costs over a local call, in µs)
 * - GET  /echo, POST /echo what the guest received: `{ method, url, headers, body, bodyBase64, context }`
 * - PUT  /items/:id        `{ id, method, path, query, body }` (path-parameter routing)
 * - GET  /counter          increments a module-level counter and returns `{ counter }` (isolation tests)
 * - GET  /time             `{ now: Date.now(), iso, random: Math.random() }` (clocks / random present)
 * - POST /trap             throws from `handler` (an uncaught guest exception → trap)
 * - POST /reject           returns a promise that rejects (an async guest failure)
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
import {
  clientsFns,
  contextFns,
  decoder,
  fromJson,
  httpFns,
  invoicingFns,
  loggingFns,
  respond,
  runCall,
  schedulerFns,
  secretsFns,
  servicesFns,
  toBase64,
  toJson,
  storageFns,
  uiProxyFns,
  userFns,
  userV2Fns,
  type FunctionTable,
} from '../../sdk/wit-calls';


/** Every function of every imported interface. */
const FUNCTIONS: FunctionTable = {
  ...contextFns(context),
  ...secretsFns(secrets),
  ...httpFns(http),
  ...storageFns(storage),
  ...loggingFns(logging),
  ...uiProxyFns(uiProxy),
  ...userFns(user),
  ...userV2Fns(userV2),
  ...schedulerFns(scheduler),
  ...invoicingFns(invoicing),
  ...clientsFns(clients),
  ...servicesFns(services),
};

// ---------------------------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------------------------

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
  return respond(200, { results: calls.map((c) => runCall(FUNCTIONS, c)) });
}

/** How much one import call costs the guest over a local call of the same shape (bench/host-call-bridge). */
function timeCalls(request: ExecuteRequest): ExecuteResponse {
  const body = parseBody(request);
  const spec = (body.ok ? body.value : undefined) as { fn?: unknown; args?: unknown; n?: unknown } | undefined;
  const name = String(spec?.fn);
  const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  const n = typeof spec?.n === 'number' && spec.n > 0 ? Math.floor(spec.n) : 0;
  if (!fn || !n) return respond(400, { error: 'bad_request', message: 'body must be {"fn": "<interface>.<function>", "args": [...], "n": N}' });
  const args = Array.isArray(spec!.args) ? (spec!.args.map(fromJson) as unknown[]) : [];
  let first: unknown;
  let failure: unknown;
  let failed = false;
  try {
    first = fn(args);
  } catch (e) {
    failed = true;
    failure = e;
  }
  const copy = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as object) } : v);
  const local = (a: unknown[]): unknown => {
    if (a.length > 99) return undefined; // reads its arguments, as the import's wrapper does
    if (failed) throw failure;
    return copy(first);
  };
  const loop = (f: (a: unknown[]) => unknown): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      try {
        f(args);
      } catch {
        // a WIT error, as the import's
      }
    }
    return performance.now() - t0;
  };
  const localMs = loop(local);
  const importMs = loop(fn);
  return respond(200, { n, importMs, localMs, addedUs: ((importMs - localMs) * 1000) / n });
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

  if (route === 'POST /time-calls') return timeCalls(request);

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

  if (route === 'POST /reject') {
    // componentize-js settles a returned promise by running the guest's event loop.
    return Promise.reject(new Error('rejected on purpose')) as unknown as ExecuteResponse;
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
