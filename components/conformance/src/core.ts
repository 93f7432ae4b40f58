/**
 * The conformance component's core, shared by every world version (src/worlds/*.ts): each entry
 * imports only the interfaces its world has and hands their functions to `createHandler`.
 *
 * The wire format is the scheduler-probe's (components/scheduler-probe/src/index.ts), so cases and
 * tools written for one work with the other:
 * - POST /probe            body `{ "calls": [ { "fn": "<interface>.<function>", "args": [...] }, ... ] }`
 *                          → 200 `{ "world": "<id>", "results": [ { "ok": <value> } | { "err": <payload> }, ... ] }`
 * - PUT  /probe/:tag       the same (a non-schedulable endpoint for scheduler cases)
 * - GET  /world            `{ "world": "<id>", "functions": ["context.get-context", ...] }`
 * - POST /trap             throws from `handler`: the runner reports production's `execute_failed`
 * - POST /fetch            body `{ "url", "method"?, "headers"?, "body"? }`: the guest's global `fetch()`
 *                          (wasi:http), → 200 `{ "status", "headers", "body" }` or `{ "error": { "name", "message" } }`
 * - anything else          404 JSON
 *
 * Values: `fn` is `<interface>.<function>` in WIT kebab-case; `args` positional; record keys
 * kebab-case or camelCase; `list<u8>` is `{ "$bytes": "<base64>" }`; `u64` is `{ "$u64": "123" }`
 * (a number is accepted for `storage-entry.revision`); `null` is an absent option. Results:
 * Uint8Array → `{ "$bytes" }`, bigint → `{ "$u64" }`, undefined → null, record keys camelCase as the
 * component's bindings lift them — so a record shows exactly the fields of the world the component
 * was built against. A WIT `result` error is `{ "err": <payload> }`; a function this world lacks is
 * `{ "err": { "probe": "unknown function <fn>" } }`; any other exception `{ "err": { "probe": "exception: …" } }`.
 * A trap cannot be reported by the trapping instance: the caller sees the runner's envelope.
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { decoder, fetchAndReport, respond, runCall, type FetchSpec, type FunctionTable } from '../../sdk/wit-calls';

export * from '../../sdk/wit-calls';

/** The component's `handler` for one world version and the functions that world imports. */
export function createHandler(world: string, functions: FunctionTable): (request: ExecuteRequest) => ExecuteResponse {
  return (request) => {
    const method = (request.http.method || 'GET').toUpperCase();
    const url = request.http.url || '/';
    const q = url.indexOf('?');
    const parts = (q >= 0 ? url.slice(0, q) : url).split('/').filter((s) => s.length > 0);
    const route = `${method} /${parts.join('/')}`;

    if (route === 'GET /world') return respond(200, { world, functions: Object.keys(functions) });
    if (route === 'POST /trap') throw new Error('conformance: deliberate trap');
    if (route === 'POST /fetch') {
      let spec: FetchSpec;
      try {
        spec = JSON.parse(decoder.decode(request.http.body ?? new Uint8Array())) as FetchSpec;
      } catch (e) {
        return respond(400, { error: 'bad_request', message: `invalid JSON body: ${e instanceof Error ? e.message : String(e)}` });
      }
      // A promise: componentize-js settles it by running the guest's event loop.
      return fetchAndReport(spec) as unknown as ExecuteResponse;
    }
    if (route === 'POST /probe' || (method === 'PUT' && parts.length === 2 && parts[0] === 'probe')) {
      const b = request.http.body;
      let body: unknown;
      try {
        body = b && b.length ? JSON.parse(decoder.decode(b)) : undefined;
      } catch (e) {
        return respond(400, { error: 'bad_request', message: `invalid JSON body: ${e instanceof Error ? e.message : String(e)}` });
      }
      const calls = (body as { calls?: unknown } | undefined)?.calls;
      if (!Array.isArray(calls)) return respond(400, { error: 'bad_request', message: 'body must be {"calls": [{"fn": "...", "args": [...]}]}' });
      return respond(200, { world, results: calls.map((c) => runCall(functions, c)) });
    }
    return respond(404, { error: 'not_found', message: `No handler for ${route}` });
  };
}

