/**
 * Calling WIT imports named in JSON, for test components (scheduler-probe, conformance): the wire
 * format of `{ "fn": "<interface>.<function>", "args": [...] }` calls and `{ "ok" } | { "err" }`
 * results. Values: record keys kebab-case or camelCase; `list<u8>` is `{ "$bytes": "<base64>" }`;
 * `u64` is `{ "$u64": "123" }`; `null` is an absent option; results come back the same way, with
 * undefined → null and record keys as the component's bindings lift them.
 */
import type { ExecuteResponse } from 'alga:extension/types';
import { witErrorPayload } from './wit-errors';

const encoder = new TextEncoder();
export const decoder = new TextDecoder();

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: Record<string, number> = {};
for (let i = 0; i < B64.length; i++) B64_INDEX[B64[i]!] = i;
B64_INDEX['-'] = 62;
B64_INDEX['_'] = 63;

export function toBase64(bytes: Uint8Array): string {
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

const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

export function fromJson(v: unknown): unknown {
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

export function toJson(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return { $u64: v.toString() };
  // A lifted list<u8> is a Uint8Array of another realm: `instanceof` fails, ArrayBuffer.isView works.
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
export function storageEntry(v: unknown): unknown {
  if (v && typeof v === 'object') {
    const e = v as Record<string, unknown>;
    if (typeof e.revision === 'number' || typeof e.revision === 'string') e.revision = BigInt(e.revision);
  }
  return v;
}

export type Fn = (a: unknown[]) => unknown;
export type FunctionTable = Record<string, Fn>;

export type CallResult = { ok: unknown } | { err: unknown };

export function runCall(functions: FunctionTable, call: unknown): CallResult {
  const c = (call ?? {}) as { fn?: unknown; args?: unknown };
  const name = typeof c.fn === 'string' ? c.fn : String(c.fn);
  const fn = Object.prototype.hasOwnProperty.call(functions, name) ? functions[name] : undefined;
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

export function respond(status: number, value: unknown): ExecuteResponse {
  return { status, headers: [{ name: 'content-type', value: 'application/json' }], body: encoder.encode(JSON.stringify(value)) };
}

/** What a `POST /fetch` route of a test component takes: one request for the guest's global fetch(). */
export interface FetchSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The guest's own redirect mode (default `manual`). */
  redirect?: 'follow' | 'manual' | 'error';
}

/**
 * The guest's global `fetch()` (componentize-js builds it on wasi:http) with `spec`, reported as
 * 200 `{ status, headers: [[name, value]...], body: "<text>" }`, or 200 `{ error: { name, message } }`
 * when fetch rejects (the guest caught it).
 */
export async function fetchAndReport(spec: FetchSpec): Promise<ExecuteResponse> {
  try {
    const res = await fetch(spec.url, { method: spec.method ?? 'GET', headers: spec.headers, body: spec.body, redirect: spec.redirect ?? 'manual' });
    const headers: [string, string][] = [];
    res.headers.forEach((value, name) => headers.push([name, value]));
    const body = await res.text();
    return respond(200, { status: res.status, headers, body });
  } catch (e) {
    const err = e as { name?: string; message?: string } | undefined;
    return respond(200, { error: { name: err?.name ?? typeof e, message: err?.message ?? String(e) } });
  }
}

// ---------------------------------------------------------------------------------------------
// Function tables per interface (the interfaces' shapes have not changed across world versions,
// except the user records, which are passed through as lifted).
// ---------------------------------------------------------------------------------------------
/* eslint-disable @typescript-eslint/no-explicit-any */
type Mod = any;

export const contextFns = (m: Mod): FunctionTable => ({ 'context.get-context': () => m.getContext() });
export const secretsFns = (m: Mod): FunctionTable => ({
  'secrets.get': (a) => m.get(a[0]),
  'secrets.list-keys': () => m.listKeys(),
});
export const httpFns = (m: Mod): FunctionTable => ({ 'http.fetch': (a) => m.fetch(a[0]) });
export const storageFns = (m: Mod): FunctionTable => ({
  'storage.get': (a) => m.get(a[0], a[1]),
  'storage.put': (a) => m.put(storageEntry(a[0])),
  'storage.delete': (a) => m.delete(a[0], a[1]),
  'storage.list-entries': (a) => m.listEntries(a[0], a[1]),
});
export const loggingFns = (m: Mod): FunctionTable => ({
  'logging.log-info': (a) => m.logInfo(a[0]),
  'logging.log-warn': (a) => m.logWarn(a[0]),
  'logging.log-error': (a) => m.logError(a[0]),
});
export const uiProxyFns = (m: Mod): FunctionTable => ({ 'ui-proxy.call-route': (a) => m.callRoute(a[0], a[1]) });
export const userFns = (m: Mod): FunctionTable => ({ 'user.get-user': () => m.getUser() });
export const userV2Fns = (m: Mod): FunctionTable => ({ 'user-v2.get-user': () => m.getUser() });
export const schedulerFns = (m: Mod): FunctionTable => ({
  'scheduler.list-schedules': () => m.listSchedules(),
  'scheduler.get-schedule': (a) => m.getSchedule(a[0]),
  'scheduler.create-schedule': (a) => m.createSchedule(a[0]),
  'scheduler.update-schedule': (a) => m.updateSchedule(a[0], a[1]),
  'scheduler.delete-schedule': (a) => m.deleteSchedule(a[0]),
  'scheduler.get-endpoints': () => m.getEndpoints(),
});
export const invoicingFns = (m: Mod): FunctionTable => ({ 'invoicing.create-manual-invoice': (a) => m.createManualInvoice(a[0]) });
export const clientsFns = (m: Mod): FunctionTable => ({
  'clients.list-clients': (a) => m.listClients(a[0]),
  'clients.get-client': (a) => m.getClient(a[0]),
});
export const servicesFns = (m: Mod): FunctionTable => ({
  'services.list-services': (a) => m.listServices(a[0]),
  'services.get-service': (a) => m.getService(a[0]),
});
/* eslint-enable @typescript-eslint/no-explicit-any */
