/**
 * The local platform's data: one file of clients and services for every tenant
 * (docs/differences.md#local-platform), each item the record production's internal API answers
 * (docs/production-contract.md#clients, #services). Validated once, on load; a bad file stops
 * start-up with the item and field named.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** 8-4-4-4-12 hex, as loose as production's `z.string().uuid()` on the get route, so every item is gettable. */
const id = z.guid({ message: 'must be a UUID (8-4-4-4-12 hex digits)' });
const optText = z.string().nullable().optional();

const clientSchema = z.strictObject({
  clientId: id,
  clientName: z.string().min(1, { message: 'must not be empty' }),
  clientType: z.enum(['company', 'individual']).nullable().optional(),
  isInactive: z.boolean().default(false),
  defaultCurrencyCode: optText,
  accountManagerId: optText,
  accountManagerName: optText,
  billingEmail: optText,
});

const serviceSchema = z.strictObject({
  serviceId: id,
  serviceName: z.string().min(1, { message: 'must not be empty' }),
  itemKind: z.enum(['service', 'product']),
  billingMethod: z.enum(['fixed', 'hourly', 'usage']),
  serviceTypeId: optText,
  serviceTypeName: optText,
  defaultRate: z.number().finite(),
  unitOfMeasure: z.string(),
  unitCode: optText,
  isActive: z.boolean(),
  sku: optText,
  /** Not answered (production's summary has none), but `search` matches it as production's does. */
  description: optText,
});

const fileSchema = z.strictObject({
  clients: z.array(clientSchema).default([]),
  services: z.array(serviceSchema).default([]),
});

/** A client exactly as production's internal API answers it (absent optionals are `null`). */
export interface ClientSummary {
  clientId: string;
  clientName: string;
  clientType: 'company' | 'individual' | null;
  isInactive: boolean;
  defaultCurrencyCode: string | null;
  accountManagerId: string | null;
  accountManagerName: string | null;
  billingEmail: string | null;
}

/** A service exactly as production's internal API answers it. */
export interface ServiceSummary {
  serviceId: string;
  serviceName: string;
  itemKind: 'service' | 'product';
  billingMethod: 'fixed' | 'hourly' | 'usage';
  serviceTypeId: string | null;
  serviceTypeName: string | null;
  defaultRate: number;
  unitOfMeasure: string;
  unitCode: string | null;
  isActive: boolean;
  sku: string | null;
}

export interface PlatformData {
  clients: readonly ClientSummary[];
  services: readonly (ServiceSummary & { description: string | null })[];
}

/** No file: a tenant with no clients and no services (an empty page, `none` for a get). */
export const EMPTY_PLATFORM_DATA: PlatformData = { clients: [], services: [] };

export class PlatformDataError extends Error {}

/** `clients[2].clientId` from a zod issue path. */
function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
}

/** Validates parsed JSON; `source` names the file in the message. */
export function parsePlatformData(raw: unknown, source = 'platform data'): PlatformData {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 10).map((i) => {
      const where = issuePath(i.path);
      const extra = i.code === 'unrecognized_keys' ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
      return `  ${where}: ${extra}`;
    });
    const more = parsed.error.issues.length > 10 ? `\n  … and ${parsed.error.issues.length - 10} more` : '';
    throw new PlatformDataError(`${source} is not valid:\n${lines.join('\n')}${more}`);
  }
  const n = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);
  const clients = parsed.data.clients.map((c) => ({
    clientId: c.clientId,
    clientName: c.clientName,
    clientType: n(c.clientType),
    isInactive: c.isInactive,
    defaultCurrencyCode: n(c.defaultCurrencyCode),
    accountManagerId: n(c.accountManagerId),
    accountManagerName: n(c.accountManagerName),
    billingEmail: n(c.billingEmail),
  }));
  const services = parsed.data.services.map((s) => ({
    serviceId: s.serviceId,
    serviceName: s.serviceName,
    itemKind: s.itemKind,
    billingMethod: s.billingMethod,
    serviceTypeId: n(s.serviceTypeId),
    serviceTypeName: n(s.serviceTypeName),
    defaultRate: s.defaultRate,
    unitOfMeasure: s.unitOfMeasure,
    unitCode: n(s.unitCode),
    isActive: s.isActive,
    sku: n(s.sku),
    description: n(s.description),
  }));
  duplicates(clients.map((c) => c.clientId), 'clients', 'clientId', source);
  duplicates(services.map((s) => s.serviceId), 'services', 'serviceId', source);
  return { clients, services };
}

function duplicates(ids: string[], list: string, field: string, source: string): void {
  const seen = new Map<string, number>();
  ids.forEach((v, i) => {
    const key = v.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) throw new PlatformDataError(`${source} is not valid:\n  ${list}[${i}].${field}: "${v}" is also ${list}[${first}].${field}`);
    seen.set(key, i);
  });
}

/** Reads and validates a platform-data file (`dev --platform-data`, `exec --platform-data`). */
export function loadPlatformData(path: string): PlatformData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PlatformDataError(`cannot read platform data ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PlatformDataError(`platform data ${path} is not JSON: ${(e as Error).message}`);
  }
  return parsePlatformData(raw, `platform data ${path}`);
}
