/**
 * Production's client and service read queries (docs/production-contract.md#clients, #services) over
 * the platform data: the same filters, `search` with ILIKE's meaning (`%`/`_` are wildcards, `\`
 * escapes), ordered by name, `(page - 1) * pageSize` offset, `totalCount` before paging.
 */
import type { ClientSummary, PlatformData, ServiceSummary } from './platform-data.js';

export interface Page<T> {
  items: T[];
  totalCount: number;
  page: number;
  pageSize: number;
}

/** `col ILIKE '%term%'` as a predicate (Postgres' default escape character is `\`). */
export function ilikeContains(term: string): (value: string | null) => boolean {
  let re = '';
  for (let i = 0; i < term.length; i++) {
    const c = term[i]!;
    if (c === '\\' && i + 1 < term.length) re += escapeRe(term[++i]!);
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += escapeRe(c);
  }
  const rx = new RegExp(re, 'iu');
  return (value) => value !== null && rx.test(value);
}
const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Production orders by name in the database's collation; a natural-language order stands in for it.
// Ties by id, so that paging never repeats or skips an item.
const collator = new Intl.Collator('en-US');
function byName<T>(name: (t: T) => string, id: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => collator.compare(name(a), name(b)) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0);
}

function paged<T>(all: T[], page = 1, pageSize = 25): Page<T> {
  const offset = (page - 1) * pageSize;
  return { items: all.slice(offset, offset + pageSize), totalCount: all.length, page, pageSize };
}

export interface ClientsListInput {
  search?: string;
  includeInactive?: boolean;
  page?: number;
  pageSize?: number;
}

export function listClients(data: PlatformData, input: ClientsListInput): Page<ClientSummary> {
  const search = input.search?.trim() ?? '';
  const match = search ? ilikeContains(search) : undefined;
  const rows = data.clients
    .filter((c) => input.includeInactive || !c.isInactive)
    .filter((c) => !match || match(c.clientName) || match(c.clientId) || match(c.billingEmail))
    .sort(byName((c) => c.clientName, (c) => c.clientId));
  return paged(rows, input.page, input.pageSize);
}

export function getClient(data: PlatformData, clientId: string): ClientSummary | null {
  const id = clientId.toLowerCase();
  return data.clients.find((c) => c.clientId.toLowerCase() === id) ?? null;
}

export interface ServicesListInput {
  search?: string;
  itemKind?: 'service' | 'product';
  isActive?: boolean;
  billingMethod?: 'fixed' | 'hourly' | 'usage';
  page?: number;
  pageSize?: number;
}

const summary = ({ description: _d, ...s }: PlatformData['services'][number]): ServiceSummary => s;

export function listServices(data: PlatformData, input: ServicesListInput): Page<ServiceSummary> {
  const search = input.search?.trim() ?? '';
  const match = search ? ilikeContains(search) : undefined;
  const rows = data.services
    .filter((s) => !input.itemKind || s.itemKind === input.itemKind)
    .filter((s) => typeof input.isActive !== 'boolean' || s.isActive === input.isActive)
    .filter((s) => !input.billingMethod || s.billingMethod === input.billingMethod)
    .filter((s) => !match || match(s.serviceName) || match(s.description) || match(s.sku))
    .sort(byName((s) => s.serviceName, (s) => s.serviceId));
  const page = paged(rows, input.page, input.pageSize);
  return { ...page, items: page.items.map(summary) };
}

export function getService(data: PlatformData, serviceId: string): ServiceSummary | null {
  const id = serviceId.toLowerCase();
  const found = data.services.find((s) => s.serviceId.toLowerCase() === id);
  return found ? summary(found) : null;
}
