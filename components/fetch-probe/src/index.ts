/**
 * fetch-probe — a test component whose one route calls the guest's global `fetch()` (componentize-js
 * implements it over `wasi:http/outgoing-handler`) and reports what the guest saw.
 *
 * POST /fetch  body `{ "url": "...", "method"?: "GET", "headers"?: { name: value }, "body"?: "text" }`
 *              → 200 `{ "status", "headers": [[name, value], ...], "body": "<text>" }` when fetch
 *              resolves, or 200 `{ "error": { "name", "message" } }` when it rejects (the guest caught it).
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { decoder, fetchAndReport, respond, type FetchSpec } from '../../sdk/wit-calls';

export async function handler(request: ExecuteRequest): Promise<ExecuteResponse> {
  if (request.http.method !== 'POST' || !request.http.url.startsWith('/fetch')) return respond(404, { error: 'not_found' });
  let spec: FetchSpec;
  try {
    spec = JSON.parse(decoder.decode(request.http.body ?? new Uint8Array())) as FetchSpec;
  } catch (e) {
    return respond(400, { error: 'bad_request', message: String(e) });
  }
  return fetchAndReport(spec);
}
