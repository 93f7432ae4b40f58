/// <reference path="../wit-types/runner.d.ts" />
/// <reference path="./guest-globals.d.ts" />
/**
 * Typed, non-throwing helpers over the raw `alga:extension/*` WIT imports, for extension authors.
 *
 * - `scheduler.*` wraps interface `scheduler`: payloads are plain values (JSON-encoded for you),
 *   `fieldErrors` come back as `Record<string, string>`, and nothing throws for a WIT error — every
 *   call returns `Result<T, E>` = `{ ok: true, value } | { ok: false, error }`.
 * - `storage.*` wraps interface `storage` (cap:storage.kv): bytes, text or JSON values, revisions for
 *   optimistic writes, and `entries()` to read a whole namespace page by page.
 * - `secrets.get()` / `secrets.keys()` wrap interface `secrets` (cap:secrets.get).
 * - `http.fetch(url, {method, headers, body})`, `uiProxy.call(route, payload?)` / `callJson`,
 *   `clients.list/get`, `services.list/get`, `invoicing.createManual(input)` and `user.get()` wrap
 *   their interfaces the same way: a `Result`, never a throw for a WIT error (field errors parsed).
 * - `log.*` never throws (a denied `cap:log.emit` is silently dropped by the host anyway).
 * - `context.get()` returns the request's tenant / extension / install ids.
 * - `json()`, `text()`, `readJson()`, `header()` and `Router` help write `handler`.
 *
 * Bundle it into your guest (esbuild; `alga:extension/*` stays external). Example:
 *
 * ```ts
 * import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
 * import { Router, json, scheduler, log } from '../../sdk/host-bindings';
 *
 * const app = new Router()
 *   .get('/api/schedules', () => {
 *     const r = scheduler.list();
 *     return r.ok ? json(200, { schedules: r.value }) : json(statusForSchedulerError(r.error), { error: r.error });
 *   })
 *   .post('/api/things/:id', (req) => {
 *     log.info(`thing ${req.params.id}`);
 *     return json(200, { id: req.params.id, body: req.json() });
 *   });
 *
 * export function handler(request: ExecuteRequest): ExecuteResponse {
 *   return app.handle(request);
 * }
 * ```
 */
import { getContext } from 'alga:extension/context';
import { get as secretGet, listKeys as secretListKeys } from 'alga:extension/secrets';
import { delete as storageDelete, get as storageGet, listEntries as storageListEntries, put as storagePut } from 'alga:extension/storage';
import { logError, logInfo, logWarn } from 'alga:extension/logging';
import { fetch as witFetch } from 'alga:extension/http';
import { callRoute } from 'alga:extension/ui-proxy';
import { getClient, listClients } from 'alga:extension/clients';
import { getService, listServices } from 'alga:extension/services';
import { createManualInvoice } from 'alga:extension/invoicing';
import { getUser } from 'alga:extension/user-v2';
import {
  createSchedule,
  deleteSchedule,
  getEndpoints,
  getSchedule,
  listSchedules,
  updateSchedule,
} from 'alga:extension/scheduler';
import type {
  ContextData,
  EndpointInfo,
  ExecuteRequest,
  ExecuteResponse,
  HttpHeader,
  ScheduleInfo as WitScheduleInfo,
  SchedulerError,
  SecretError,
  StorageEntry,
  StorageError,
  HttpError,
  HttpResponse,
  ProxyError,
  ClientSummary,
  ClientsListInput,
  ClientsListResult,
  ClientReadError,
  ServiceSummary,
  ServicesListInput,
  ServicesListResult,
  ServiceReadError,
  CreateManualInvoiceInput,
  UserDataV2,
  UserError,
} from 'alga:extension/types';

export type { ContextData, EndpointInfo, ExecuteRequest, ExecuteResponse, HttpHeader, SchedulerError, SecretError, StorageEntry, StorageError };
export type { HttpError, HttpResponse, ProxyError, ClientSummary, ClientsListInput, ClientsListResult, ClientReadError };
export type { ServiceSummary, ServicesListInput, ServicesListResult, ServiceReadError, CreateManualInvoiceInput, UserDataV2, UserError };

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

// ---------------------------------------------------------------------------------------------
// WIT errors
// ---------------------------------------------------------------------------------------------

const SCHEDULER_ERRORS: readonly string[] = ['not-found', 'validation-failed', 'quota-exceeded', 'denied', 'internal'];

export { witErrorPayload } from './wit-errors';
import { witErrorPayload } from './wit-errors';

/** Calls a result-returning import; a WIT error becomes `{ ok: false }`, anything else rethrows. */
export function tryWit<T, E extends string>(call: () => T, cases: readonly string[]): Result<T, E> {
  try {
    return ok(call());
  } catch (e) {
    const payload = witErrorPayload(e);
    if (typeof payload === 'string' && cases.includes(payload)) return err(payload as E);
    throw e;
  }
}

/** A sensible HTTP status for a scheduler error: denied → 403, not-found → 404,
 * validation-failed → 400, quota-exceeded → 429, internal → 502 (the platform behind the host failed). */
export function statusForSchedulerError(e: SchedulerError): number {
  switch (e) {
    case 'denied':
      return 403;
    case 'not-found':
      return 404;
    case 'validation-failed':
      return 400;
    case 'quota-exceeded':
      return 429;
    default:
      return 502;
  }
}

// ---------------------------------------------------------------------------------------------
// scheduler
// ---------------------------------------------------------------------------------------------

/** `schedule-info` with `payload` decoded from its JSON string (the raw text is kept as `payloadJson`). */
export interface Schedule extends Omit<WitScheduleInfo, 'payload'> {
  payload?: unknown;
  payloadJson?: string;
}

export interface CreateScheduleOptions {
  /** Endpoint selector: `"/api/heartbeat"` or `"POST /api/heartbeat"` (docs/production-contract.md#scheduler-endpoints). */
  endpoint: string;
  cron: string;
  /** IANA zone; default UTC. */
  timezone?: string;
  enabled?: boolean;
  name?: string;
  /** Any JSON object or array; sent as the scheduled request's body (not for GET). */
  payload?: unknown;
}

export interface UpdateScheduleOptions {
  endpoint?: string;
  cron?: string;
  timezone?: string;
  enabled?: boolean;
  /** `""` clears the name. */
  name?: string;
  /** `null` clears the payload; `undefined` leaves it as it is. */
  payload?: unknown;
}

/** Failure of create/update/delete: the host's message and, when given, the per-field messages. */
export interface ScheduleMutationError {
  error: string;
  fieldErrors?: Record<string, string>;
}

function decodeSchedule(s: WitScheduleInfo): Schedule {
  const { payload: payloadJson, ...rest } = s;
  const out: Schedule = { ...rest };
  if (payloadJson !== undefined) {
    out.payloadJson = payloadJson;
    try {
      out.payload = JSON.parse(payloadJson);
    } catch {
      out.payload = payloadJson;
    }
  }
  return out;
}

function parseFieldErrors(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const out: Record<string, string> = {};
      for (const [k, m] of Object.entries(v as Record<string, unknown>)) out[k] = typeof m === 'string' ? m : JSON.stringify(m);
      return out;
    }
  } catch {
    // fall through
  }
  return { _: raw };
}

function encodePayload(payload: unknown): Result<string | undefined, ScheduleMutationError> {
  if (payload === undefined) return ok(undefined);
  if (payload === null) return ok('null');
  try {
    const s = JSON.stringify(payload);
    if (s === undefined) throw new Error('not serializable');
    return ok(s);
  } catch {
    const message = 'Payload must be JSON-serializable';
    return err({ error: message, fieldErrors: { payload: message } });
  }
}

function mutationError(error: string | undefined, fieldErrors: string | undefined, fallback: string): ScheduleMutationError {
  const fe = parseFieldErrors(fieldErrors);
  return fe ? { error: error || fallback, fieldErrors: fe } : { error: error || fallback };
}

export const scheduler = {
  /** All schedules of this install, oldest first. */
  list(): Result<Schedule[], SchedulerError> {
    const r = tryWit<WitScheduleInfo[], SchedulerError>(() => listSchedules(), SCHEDULER_ERRORS);
    return r.ok ? ok(r.value.map(decodeSchedule)) : r;
  },

  /** One schedule, or `undefined` if this install has none with that id. */
  get(scheduleId: string): Result<Schedule | undefined, SchedulerError> {
    const r = tryWit<WitScheduleInfo | undefined, SchedulerError>(() => getSchedule(scheduleId), SCHEDULER_ERRORS);
    return r.ok ? ok(r.value ? decodeSchedule(r.value) : undefined) : r;
  },

  create(input: CreateScheduleOptions): Result<{ scheduleId: string }, ScheduleMutationError> {
    const payload = encodePayload(input.payload);
    if (!payload.ok) return payload;
    const r = createSchedule({
      endpoint: input.endpoint,
      cron: input.cron,
      timezone: input.timezone,
      enabled: input.enabled,
      name: input.name,
      payload: payload.value,
    });
    if (r.success) return ok({ scheduleId: r.scheduleId ?? '' });
    return err(mutationError(r.error, r.fieldErrors, 'Failed to create schedule'));
  },

  /** Changes only the fields given. */
  update(scheduleId: string, input: UpdateScheduleOptions): Result<void, ScheduleMutationError> {
    const payload = encodePayload(input.payload);
    if (!payload.ok) return payload;
    const r = updateSchedule(scheduleId, {
      endpoint: input.endpoint,
      cron: input.cron,
      timezone: input.timezone,
      enabled: input.enabled,
      name: input.name,
      payload: payload.value,
    });
    return r.success ? ok(undefined) : err(mutationError(r.error, r.fieldErrors, 'Failed to update schedule'));
  },

  delete(scheduleId: string): Result<void, ScheduleMutationError> {
    const r = deleteSchedule(scheduleId);
    return r.success ? ok(undefined) : err({ error: r.error || 'Failed to delete schedule' });
  },

  /** Endpoints of the installed version (with `schedulable`), ordered by path. */
  endpoints(): Result<EndpointInfo[], SchedulerError> {
    return tryWit<EndpointInfo[], SchedulerError>(() => getEndpoints(), SCHEDULER_ERRORS);
  },
};

// ---------------------------------------------------------------------------------------------
// storage, secrets
// ---------------------------------------------------------------------------------------------

const STORAGE_ERRORS: readonly string[] = ['missing', 'conflict', 'denied', 'internal'];
const SECRET_ERRORS: readonly string[] = ['missing', 'denied', 'expired', 'internal'];

/** A sensible HTTP status for a storage error: missing → 404, conflict → 409, denied → 403, internal → 502. */
export function statusForStorageError(e: StorageError | 'invalid-json'): number {
  switch (e) {
    case 'missing':
      return 404;
    case 'conflict':
      return 409;
    case 'denied':
      return 403;
    case 'invalid-json':
      return 422;
    default:
      return 502;
  }
}

export interface PutOptions {
  /**
   * Write only if the stored entry is at this revision (from an earlier get or put); otherwise the
   * put fails with `conflict`. Absent: write whatever is stored. There is no "only if absent".
   */
  revision?: bigint;
}

/** A stored JSON value with its revision. */
export interface JsonEntry<T> {
  key: string;
  value: T;
  revision?: bigint;
}

/** The most pages `entries()` reads (25 entries each by default on the platform). */
const MAX_PAGES = 10_000;

export const storage = {
  /** The entry, or `missing`. */
  get(namespace: string, key: string): Result<StorageEntry, StorageError> {
    return tryWit<StorageEntry, StorageError>(() => storageGet(namespace, key), STORAGE_ERRORS);
  },

  /** The value as UTF-8 text. */
  getText(namespace: string, key: string): Result<{ value: string; revision?: bigint }, StorageError> {
    const r = storage.get(namespace, key);
    return r.ok ? ok({ value: decoder.decode(r.value.value), revision: r.value.revision }) : r;
  },

  /** The value parsed as JSON (written by `putJson`); `invalid-json` when it is not JSON. */
  getJson<T = unknown>(namespace: string, key: string): Result<JsonEntry<T>, StorageError | 'invalid-json'> {
    const r = storage.get(namespace, key);
    if (!r.ok) return r;
    try {
      return ok({ key, value: JSON.parse(decoder.decode(r.value.value)) as T, revision: r.value.revision });
    } catch {
      return err('invalid-json');
    }
  },

  /** Stores bytes or text; answers the new revision (1 for a new key, +1 on each write). */
  put(namespace: string, key: string, value: Uint8Array | string, options: PutOptions = {}): Result<{ revision?: bigint }, StorageError> {
    const bytes = typeof value === 'string' ? encoder.encode(value) : value;
    const r = tryWit<StorageEntry, StorageError>(() => storagePut({ namespace, key, value: bytes, revision: options.revision }), STORAGE_ERRORS);
    return r.ok ? ok({ revision: r.value.revision }) : r;
  },

  /** Stores a value as JSON text. */
  putJson(namespace: string, key: string, value: unknown, options: PutOptions = {}): Result<{ revision?: bigint }, StorageError> {
    return storage.put(namespace, key, JSON.stringify(value ?? null), options);
  },

  /** Removes the entry; a key that is not there answers `conflict` (production's contract). */
  delete(namespace: string, key: string): Result<void, StorageError> {
    return tryWit<void, StorageError>(() => storageDelete(namespace, key), STORAGE_ERRORS);
  },

  /** One page of entries ordered by key, after `afterKey` (the last key of the previous page). */
  list(namespace: string, afterKey?: string): Result<StorageEntry[], StorageError> {
    return tryWit<StorageEntry[], StorageError>(() => storageListEntries(namespace, afterKey), STORAGE_ERRORS);
  },

  /**
   * Every entry of the namespace, page by page (each page continues after the last key received).
   * Production's server skips one entry at each page boundary (docs/differences.md#storage-paging).
   */
  entries(namespace: string): Result<StorageEntry[], StorageError> {
    const all: StorageEntry[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = storage.list(namespace, after);
      if (!r.ok) return r;
      if (r.value.length === 0) break;
      all.push(...r.value);
      const last = r.value[r.value.length - 1]!.key;
      if (last === after) break;
      after = last;
    }
    return ok(all);
  },
};

export const secrets = {
  /** The install's secret `key` (exact, case-sensitive), `missing` when it has none, `denied` without cap:secrets.get. */
  get(key: string): Result<string, SecretError> {
    return tryWit<string, SecretError>(() => secretGet(key), SECRET_ERRORS);
  },
  /** The names of the install's secrets (never their values); empty without cap:secrets.get. */
  keys(): string[] {
    try {
      return secretListKeys();
    } catch {
      return [];
    }
  },
};

// ---------------------------------------------------------------------------------------------
// http, ui-proxy, clients, services, invoicing, user
// ---------------------------------------------------------------------------------------------

const HTTP_ERRORS: readonly string[] = ['invalid-url', 'not-allowed', 'transport', 'internal'];
const PROXY_ERRORS: readonly string[] = ['route-not-found', 'denied', 'bad-request', 'internal'];
const READ_ERRORS: readonly string[] = ['not-allowed', 'invalid-input', 'internal'];
const USER_ERRORS: readonly string[] = ['not-available', 'not-allowed'];

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as UTF-8; any other value as JSON (with `content-type: application/json`). */
  body?: string | Uint8Array | unknown;
}

/** An `http-response` with helpers for its body. */
export interface FetchResponse extends HttpResponse {
  text(): string;
  /** The body as JSON, or `undefined` when it is not JSON. */
  json<T = unknown>(): T | undefined;
  header(name: string): string | undefined;
}

function decorate(r: HttpResponse): FetchResponse {
  const body = r.body ?? new Uint8Array();
  return {
    ...r,
    text: () => fromUtf8.decode(body),
    json<T>() {
      try {
        return JSON.parse(fromUtf8.decode(body)) as T;
      } catch {
        return undefined;
      }
    },
    header: (name) => r.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value,
  };
}

export const http = {
  /**
   * An outbound request (cap:http.fetch): every status comes back as a response; redirects are not
   * followed. Errors: `not-allowed` (no capability, a host off the allowlist, or an address extensions
   * may not reach), `invalid-url`, `transport`, `internal`.
   */
  fetch(url: string, o: FetchOptions = {}): Result<FetchResponse, HttpError> {
    const headers: HttpHeader[] = Object.entries(o.headers ?? {}).map(([name, value]) => ({ name, value }));
    let body: Uint8Array | undefined;
    if (typeof o.body === 'string') body = utf8.encode(o.body);
    else if (o.body instanceof Uint8Array) body = o.body;
    else if (o.body !== undefined) {
      body = utf8.encode(JSON.stringify(o.body));
      if (!headers.some((h) => h.name.toLowerCase() === 'content-type')) headers.push({ name: 'content-type', value: 'application/json' });
    }
    const r = tryWit<HttpResponse, HttpError>(() => witFetch({ method: o.method ?? (body ? 'POST' : 'GET'), url, headers, body }), HTTP_ERRORS);
    return r.ok ? ok(decorate(r.value)) : r;
  },
};

export const uiProxy = {
  /** A route of the UI proxy (cap:ui.proxy): GET without a payload, POST with one (objects are sent
   * as JSON); the answer's bytes. */
  call(route: string, payload?: string | Uint8Array | unknown): Result<Uint8Array, ProxyError> {
    const bytes = payload === undefined ? undefined : typeof payload === 'string' ? utf8.encode(payload) : payload instanceof Uint8Array ? payload : utf8.encode(JSON.stringify(payload));
    return tryWit<Uint8Array, ProxyError>(() => callRoute(route, bytes), PROXY_ERRORS);
  },
  /** `call`, with the answer parsed as JSON (`invalid-json` when it is not). */
  callJson<T = unknown>(route: string, payload?: unknown): Result<T, ProxyError | 'invalid-json'> {
    const r = uiProxy.call(route, payload);
    if (!r.ok) return r;
    try {
      return ok(JSON.parse(fromUtf8.decode(r.value)) as T);
    } catch {
      return err('invalid-json');
    }
  },
};

export const clients = {
  /** A page of the tenant's clients (cap:client.read): page 1, 25 per page unless given; inactive ones only with `includeInactive`. */
  list(input: ClientsListInput = {}): Result<ClientsListResult, ClientReadError> {
    return tryWit<ClientsListResult, ClientReadError>(() => listClients(input), READ_ERRORS);
  },
  /** One client, or `undefined` when there is none with that id. */
  get(clientId: string): Result<ClientSummary | undefined, ClientReadError> {
    return tryWit<ClientSummary | undefined, ClientReadError>(() => getClient(clientId), READ_ERRORS);
  },
};

export const services = {
  /** A page of the tenant's service catalog (cap:service.read), filtered by kind, active and billing method. */
  list(input: ServicesListInput = {}): Result<ServicesListResult, ServiceReadError> {
    return tryWit<ServicesListResult, ServiceReadError>(() => listServices(input), READ_ERRORS);
  },
  get(serviceId: string): Result<ServiceSummary | undefined, ServiceReadError> {
    return tryWit<ServiceSummary | undefined, ServiceReadError>(() => getService(serviceId), READ_ERRORS);
  },
};

export interface CreatedInvoice {
  invoiceId: string;
  invoiceNumber: string;
  status: string;
  subtotal: number;
  tax: number;
  total: number;
}

export interface InvoiceError {
  error: string;
  /** Per field (`clientId`, `items[0].rate`, …), when the platform named them. */
  fieldErrors?: Record<string, string>;
}

export const invoicing = {
  /** A draft manual invoice (cap:invoice.manual.create). Amounts are in the currency's minor unit. */
  createManual(input: CreateManualInvoiceInput): Result<CreatedInvoice, InvoiceError> {
    const r = createManualInvoice(input);
    if (r.success) {
      return ok({ invoiceId: r.invoiceId ?? '', invoiceNumber: r.invoiceNumber ?? '', status: r.status ?? '', subtotal: r.subtotal ?? 0, tax: r.tax ?? 0, total: r.total ?? 0 });
    }
    const fe = parseFieldErrors(r.fieldErrors);
    return err(fe ? { error: r.error || 'Failed to create invoice', fieldErrors: fe } : { error: r.error || 'Failed to create invoice' });
  },
};

export const user = {
  /** The user behind the request (cap:user.read); `not-available` for scheduled runs. */
  get(): Result<UserDataV2, UserError> {
    return tryWit<UserDataV2, UserError>(() => getUser(), USER_ERRORS);
  },
};

// ---------------------------------------------------------------------------------------------
// logging, context
// ---------------------------------------------------------------------------------------------

function safe(fn: (m: string) => void, message: string): void {
  try {
    fn(message);
  } catch {
    // logging must never break a handler
  }
}

export const log = {
  info: (message: string): void => safe(logInfo, message),
  warn: (message: string): void => safe(logWarn, message),
  error: (message: string): void => safe(logError, message),
};

export const context = {
  get: (): ContextData => getContext(),
};

// ---------------------------------------------------------------------------------------------
// handler helpers
// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A JSON response (`content-type: application/json`). Extra headers are appended. */
export function json(status: number, value: unknown, headers: HttpHeader[] = []): ExecuteResponse {
  return {
    status,
    headers: [{ name: 'content-type', value: 'application/json' }, ...headers],
    body: encoder.encode(JSON.stringify(value ?? null)),
  };
}

/** A plain-text response. */
export function text(status: number, body: string, headers: HttpHeader[] = []): ExecuteResponse {
  return { status, headers: [{ name: 'content-type', value: 'text/plain; charset=utf-8' }, ...headers], body: encoder.encode(body) };
}

/** A request header's value (case-insensitive), or undefined. */
export function header(request: ExecuteRequest, name: string): string | undefined {
  const n = name.toLowerCase();
  return request.http.headers.find((h) => h.name.toLowerCase() === n)?.value;
}

/** The request body as text ('' when absent). */
export function bodyText(request: ExecuteRequest): string {
  return request.http.body && request.http.body.length ? decoder.decode(request.http.body) : '';
}

/** The request body parsed as JSON: `undefined` for an empty body, an error for invalid JSON. */
export function readJson<T = unknown>(request: ExecuteRequest): Result<T | undefined, string> {
  const t = bodyText(request);
  if (t.trim() === '') return ok(undefined);
  try {
    return ok(JSON.parse(t) as T);
  } catch (e) {
    return err(`invalid JSON body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Thrown by `RouteRequest.json()`; the router answers it with 400. */
export class BadRequest extends Error {}

export interface RouteRequest {
  request: ExecuteRequest;
  method: string;
  /** URL path without the query. */
  path: string;
  query: URLSearchParams;
  /** `:name` segments of the matched pattern, URI-decoded. */
  params: Record<string, string>;
  header(name: string): string | undefined;
  /** The body parsed as JSON (`undefined` when empty); invalid JSON → 400 from the router. */
  json<T = unknown>(): T | undefined;
}

export type RouteHandler = (req: RouteRequest) => ExecuteResponse;

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0);
}

function matchRoute(segments: string[], parts: string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const part = parts[i]!;
    if (seg.startsWith(':')) {
      let v = part;
      try {
        v = decodeURIComponent(part);
      } catch {
        // keep raw
      }
      params[seg.slice(1)] = v;
    } else if (seg !== part) {
      return null;
    }
  }
  return params;
}

/**
 * A tiny router: method + path pattern (`/api/schedules/:id`). Unknown path → 404 JSON, known path
 * with another method → 405 JSON (with `allow`), a handler that throws → 500 JSON (never a trap).
 */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method: method.toUpperCase(), segments: splitPath(pattern), handler });
    return this;
  }
  get(pattern: string, handler: RouteHandler): this {
    return this.on('GET', pattern, handler);
  }
  post(pattern: string, handler: RouteHandler): this {
    return this.on('POST', pattern, handler);
  }
  put(pattern: string, handler: RouteHandler): this {
    return this.on('PUT', pattern, handler);
  }
  patch(pattern: string, handler: RouteHandler): this {
    return this.on('PATCH', pattern, handler);
  }
  delete(pattern: string, handler: RouteHandler): this {
    return this.on('DELETE', pattern, handler);
  }

  handle(request: ExecuteRequest): ExecuteResponse {
    const method = (request.http.method || 'GET').toUpperCase();
    const url = request.http.url || '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
    const parts = splitPath(path);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchRoute(route.segments, parts);
      if (!params) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const req: RouteRequest = {
        request,
        method,
        path,
        query,
        params,
        header: (name) => header(request, name),
        json: <T>() => {
          const r = readJson<T>(request);
          if (!r.ok) throw new BadRequest(r.error);
          return r.value;
        },
      };
      try {
        return route.handler(req);
      } catch (e) {
        if (e instanceof BadRequest) return json(400, { error: 'bad_request', message: e.message });
        const message = e instanceof Error ? e.message : String(e);
        return json(500, { error: 'handler_failed', message });
      }
    }
    if (allowed.length) {
      return json(405, { error: 'method_not_allowed', message: `${method} not allowed on ${path}`, allow: allowed }, [
        { name: 'allow', value: allowed.join(', ') },
      ]);
    }
    return json(404, { error: 'not_found', message: `No handler for ${method} ${path}` });
  }
}

// ---------------------------------------------------------------------------------------------
// everything together
// ---------------------------------------------------------------------------------------------

/** The bindings as one object, e.g. to pass to handler modules (`(req, host) => …`) or to fake in
 * unit tests of handler logic. */
export interface HostBindings {
  scheduler: typeof scheduler;
  storage: typeof storage;
  secrets: typeof secrets;
  http: typeof http;
  uiProxy: typeof uiProxy;
  clients: typeof clients;
  services: typeof services;
  invoicing: typeof invoicing;
  user: typeof user;
  log: typeof log;
  context: typeof context;
}

export const host: HostBindings = { scheduler, storage, secrets, http, uiProxy, clients, services, invoicing, user, log, context };
