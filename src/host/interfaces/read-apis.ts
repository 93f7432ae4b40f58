/**
 * `clients` (cap:client.read) and `services` (cap:service.read): each call becomes one request to the
 * platform's internal API (in-process or over HTTP, the same body), and its answer becomes the WIT
 * value exactly as production's runner maps it (docs/production-contract.md#clients, #services):
 * 401/403 → not-allowed, 400 → invalid-input, anything else that is not 2xx → internal; a body that is
 * not JSON, a malformed item or an unknown enum text → internal; get needs an `item` key.
 */
import type { PlatformApi } from '../ports.js';
import type {
  ClientsListInput,
  ClientsListResult,
  ClientSummary,
  ServicesListInput,
  ServicesListResult,
  ServiceSummary,
} from '../wit-types/interfaces/alga-extension-types.js';
import { err, ok, type ExecutionContext, type HostInterface } from './types.js';

type ReadError = 'not-allowed' | 'invalid-input' | 'internal';
type Answer<T> = { ok: T } | { err: ReadError };

/** Thrown inside a parser: the answer does not have production's shape (→ internal). */
class Malformed extends Error {}

const DEFAULT_PAGE = 1;
const DEFAULT_PAGE_SIZE = 25;

function statusToReadError(status: number): ReadError {
  if (status === 401 || status === 403) return 'not-allowed';
  if (status === 400) return 'invalid-input';
  return 'internal';
}

/** One call: the reply's status mapped, its JSON body parsed (empty → null). */
async function call(ctx: ExecutionContext, api: PlatformApi, body: Record<string, unknown>, signal: AbortSignal): Promise<Answer<unknown>> {
  const backend = ctx.services.platformApi;
  if (!backend) return err('internal'); // production: no callback base URL or token
  const reply = await backend.call(api, ctx.context.installId!, body, signal);
  if (reply.kind === 'unreachable') {
    ctx.logger.error(`${api} request failed`, { reason: reply.reason, error: reply.message });
    return err('internal');
  }
  if (reply.status < 200 || reply.status > 299) {
    ctx.logger.warn(`${api} request refused`, { status: reply.status });
    return err(statusToReadError(reply.status));
  }
  if (reply.text.trim() === '') return ok(null);
  try {
    return ok(JSON.parse(reply.text));
  } catch {
    return err('internal');
  }
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
/** camelCase or snake_case key (production's runner reads both). */
const field = (o: Record<string, unknown>, camel: string): unknown => {
  if (camel in o) return o[camel];
  return o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
};
function str(o: Record<string, unknown>, k: string): string {
  const v = field(o, k);
  if (typeof v !== 'string') throw new Malformed(k);
  return v;
}
function optStr(o: Record<string, unknown>, k: string): string | undefined {
  const v = field(o, k);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Malformed(k);
  return v;
}
function bool(o: Record<string, unknown>, k: string): boolean {
  const v = field(o, k);
  if (typeof v !== 'boolean') throw new Malformed(k);
  return v;
}
function num(o: Record<string, unknown>, k: string): number {
  const v = field(o, k);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Malformed(k);
  return v;
}
function oneOf<T extends string>(o: Record<string, unknown>, k: string, cases: readonly T[]): T {
  const v = str(o, k);
  if (!(cases as readonly string[]).includes(v)) throw new Malformed(k);
  return v as T;
}
/** A u32 of the list result: the answer's, else what was asked. */
function u32(o: Record<string, unknown>, k: string, fallback: number): number {
  const v = field(o, k);
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new Malformed(k);
  return v;
}

function toClient(raw: unknown): ClientSummary {
  const o = obj(raw);
  if (!o) throw new Malformed('item');
  return {
    clientId: str(o, 'clientId'),
    clientName: str(o, 'clientName'),
    clientType: optStr(o, 'clientType'),
    isInactive: bool(o, 'isInactive'),
    defaultCurrencyCode: optStr(o, 'defaultCurrencyCode'),
    accountManagerId: optStr(o, 'accountManagerId'),
    accountManagerName: optStr(o, 'accountManagerName'),
    billingEmail: optStr(o, 'billingEmail'),
  };
}

function toService(raw: unknown): ServiceSummary {
  const o = obj(raw);
  if (!o) throw new Malformed('item');
  return {
    serviceId: str(o, 'serviceId'),
    serviceName: str(o, 'serviceName'),
    itemKind: oneOf(o, 'itemKind', ['service', 'product'] as const),
    billingMethod: oneOf(o, 'billingMethod', ['fixed', 'hourly', 'usage'] as const),
    serviceTypeId: optStr(o, 'serviceTypeId'),
    serviceTypeName: optStr(o, 'serviceTypeName'),
    defaultRate: num(o, 'defaultRate'),
    unitOfMeasure: str(o, 'unitOfMeasure'),
    isActive: bool(o, 'isActive'),
    sku: optStr(o, 'sku'),
  };
}

function toPage<T>(body: unknown, page: number, pageSize: number, item: (raw: unknown) => T): { items: T[]; totalCount: number; page: number; pageSize: number } {
  const o = obj(body) ?? {};
  const raw = field(o, 'items');
  const items = (Array.isArray(raw) ? raw : []).map(item);
  return { items, totalCount: u32(o, 'totalCount', items.length), page: u32(o, 'page', page), pageSize: u32(o, 'pageSize', pageSize) };
}

function toItem<T>(body: unknown, item: (raw: unknown) => T): T | undefined {
  const o = obj(body);
  if (!o || !('item' in o)) throw new Malformed('item');
  return o.item === null || o.item === undefined ? undefined : item(o.item);
}

/** Parses a 2xx answer; a shape production's runner refuses → internal. */
function parsed<T>(answer: Answer<unknown>, parse: (body: unknown) => T): Answer<T> {
  if ('err' in answer) return answer;
  try {
    return ok(parse(answer.ok));
  } catch (e) {
    if (e instanceof Malformed) return err('internal');
    throw e;
  }
}

/** Production's runner sends the request's user (id and type) for the server's RBAC check. */
function withUser(ctx: ExecutionContext, body: Record<string, unknown>): Record<string, unknown> {
  return ctx.user ? { ...body, user: { userId: ctx.user.userId, userType: ctx.user.userType } } : body;
}

const pagingValid = (page: number, pageSize: number) => page >= 1 && pageSize >= 1 && pageSize <= 100;

function listBody(input: ClientsListInput | ServicesListInput, page: number, pageSize: number): Record<string, unknown> {
  const out: Record<string, unknown> = { page, pageSize };
  for (const [k, v] of Object.entries(input)) if (v !== undefined && k !== 'page' && k !== 'pageSize') out[k] = v;
  return out;
}

export const clients: HostInterface<'alga:extension/clients'> = {
  functions: {
    listClients: async (ctx, [input], signal): Promise<Answer<ClientsListResult>> => {
      if (!ctx.granted.has('cap:client.read') || !ctx.context.installId) return err('not-allowed');
      const page = input.page ?? DEFAULT_PAGE;
      const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
      if (!pagingValid(page, pageSize)) return err('invalid-input');
      const answer = await call(ctx, 'clients', withUser(ctx, { operation: 'list', input: listBody(input, page, pageSize) }), signal);
      return parsed(answer, (b) => toPage(b, page, pageSize, toClient));
    },
    getClient: async (ctx, [clientId], signal): Promise<Answer<ClientSummary | undefined>> => {
      if (!ctx.granted.has('cap:client.read') || !ctx.context.installId) return err('not-allowed');
      const answer = await call(ctx, 'clients', withUser(ctx, { operation: 'get', input: { clientId } }), signal);
      return parsed(answer, (b) => toItem(b, toClient));
    },
  },
  onInternalError: () => err('internal'),
};

export const services: HostInterface<'alga:extension/services'> = {
  functions: {
    listServices: async (ctx, [input], signal): Promise<Answer<ServicesListResult>> => {
      if (!ctx.granted.has('cap:service.read') || !ctx.context.installId) return err('not-allowed');
      const page = input.page ?? DEFAULT_PAGE;
      const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
      if (!pagingValid(page, pageSize)) return err('invalid-input');
      const answer = await call(ctx, 'services', withUser(ctx, { operation: 'list', input: listBody(input, page, pageSize) }), signal);
      return parsed(answer, (b) => toPage(b, page, pageSize, toService));
    },
    getService: async (ctx, [serviceId], signal): Promise<Answer<ServiceSummary | undefined>> => {
      if (!ctx.granted.has('cap:service.read') || !ctx.context.installId) return err('not-allowed');
      const answer = await call(ctx, 'services', withUser(ctx, { operation: 'get', input: { serviceId } }), signal);
      return parsed(answer, (b) => toItem(b, toService));
    },
  },
  onInternalError: () => err('internal'),
};
