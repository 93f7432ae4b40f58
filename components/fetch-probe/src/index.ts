/**
 * fetch-probe — a test component whose one route calls the guest's global `fetch()` (componentize-js
 * implements it over `wasi:http/outgoing-handler`) and reports what the guest saw.
 *
 * POST /fetch  body `{ "url": "...", "method"?: "GET", "headers"?: { name: value }, "body"?: "text" }`
 *              → 200 `{ "status", "headers": [[name, value], ...], "body": "<text>" }` when fetch
 *              resolves, or 200 `{ "error": { "name", "message" } }` when it rejects (the guest caught it).
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { decoder, respond } from '../../sdk/wit-calls';

interface Spec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export async function handler(request: ExecuteRequest): Promise<ExecuteResponse> {
  if (request.http.method !== 'POST' || !request.http.url.startsWith('/fetch')) return respond(404, { error: 'not_found' });
  let spec: Spec;
  try {
    spec = JSON.parse(decoder.decode(request.http.body ?? new Uint8Array())) as Spec;
  } catch (e) {
    return respond(400, { error: 'bad_request', message: String(e) });
  }
  try {
    const res = await fetch(spec.url, { method: spec.method ?? 'GET', headers: spec.headers, body: spec.body, redirect: 'manual' });
    const headers: [string, string][] = [];
    res.headers.forEach((value, name) => headers.push([name, value]));
    const body = await res.text();
    return respond(200, { status: res.status, headers, body });
  } catch (e) {
    const err = e as { name?: string; message?: string };
    return respond(200, { error: { name: err?.name ?? typeof e, message: err?.message ?? String(e) } });
  }
}
