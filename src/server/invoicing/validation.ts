/**
 * Production's validation of a manual invoice (docs/production-contract.md#invoicing): the same
 * rules, field names and messages, every problem collected (the first per field kept).
 */
import { isRfc4122Uuid } from '../../shared/uuid.js';

export interface ManualInvoiceItem {
  serviceId: string;
  quantity: number;
  description: string;
  rate: number;
  isDiscount?: boolean;
  discountType?: 'percentage' | 'fixed';
  appliesToItemId?: string;
  appliesToServiceId?: string;
}

export interface ManualInvoiceInput {
  clientId: string;
  items: ManualInvoiceItem[];
  invoiceDate?: string;
  dueDate?: string;
  poNumber?: string | null;
}

export type Validated = { ok: true; value: ManualInvoiceInput } | { ok: false; error: string; fieldErrors: Record<string, string> };

/** RFC 4122 versions 1–5 (production's check here is stricter than its routes'). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
/** null/undefined → null, anything else its trimmed string form. */
const trimmed = (v: unknown): string | null => (v === null || v === undefined ? null : String(v).trim());

class Problems {
  readonly map: Record<string, string> = {};
  add(field: string, message: string): void {
    if (!this.map[field]) this.map[field] = message;
  }
  get any(): boolean {
    return Object.keys(this.map).length > 0;
  }
}

function uuid(v: unknown, field: string, p: Problems): string | undefined {
  const s = trimmed(v);
  if (!s) {
    p.add(field, 'Required');
    return undefined;
  }
  if (!isRfc4122Uuid(s)) {
    p.add(field, 'Invalid UUID');
    return undefined;
  }
  return s;
}

function isoDate(v: unknown, field: string, p: Problems): string | undefined {
  const s = trimmed(v);
  if (!s) return undefined;
  if (!ISO_DATE.test(s)) {
    p.add(field, 'Invalid date (expected YYYY-MM-DD)');
    return undefined;
  }
  return s;
}

function items(raw: unknown, p: Problems): ManualInvoiceItem[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    p.add('items', 'Must include at least one item');
    return [];
  }
  const out: ManualInvoiceItem[] = [];
  raw.forEach((item, i) => {
    const at = `items[${i}]`;
    if (!isRecord(item)) {
      p.add(at, 'Invalid item');
      return;
    }
    const serviceId = uuid(item.serviceId, `${at}.serviceId`, p);
    const description = trimmed(item.description);
    if (!description) p.add(`${at}.description`, 'Required');
    if (description && description.length > 500) p.add(`${at}.description`, 'Too long');
    const quantity = Number(item.quantity);
    if (!Number.isFinite(quantity) || quantity <= 0) p.add(`${at}.quantity`, 'Must be > 0');
    const rate = Number(item.rate);
    if (!Number.isFinite(rate) || rate < 0) p.add(`${at}.rate`, 'Must be >= 0');
    const isDiscount = item.isDiscount === undefined ? undefined : Boolean(item.isDiscount);
    const typeRaw = trimmed(item.discountType);
    const discountType = typeRaw === 'percentage' || typeRaw === 'fixed' ? typeRaw : undefined;
    if (isDiscount) {
      if (!discountType) p.add(`${at}.discountType`, 'Required when isDiscount=true');
      if (discountType === 'percentage' && Number.isFinite(rate) && (rate < 0 || rate > 100)) {
        p.add(`${at}.rate`, 'Percentage discount rate must be between 0 and 100');
      }
    } else {
      if (typeRaw) p.add(`${at}.discountType`, 'Not allowed unless isDiscount=true');
      if (item.appliesToItemId !== undefined || item.appliesToServiceId !== undefined) p.add(at, 'appliesTo* fields require isDiscount=true');
    }
    const appliesToItemId = item.appliesToItemId === undefined ? undefined : uuid(item.appliesToItemId, `${at}.appliesToItemId`, p);
    const appliesToServiceId = item.appliesToServiceId === undefined ? undefined : uuid(item.appliesToServiceId, `${at}.appliesToServiceId`, p);
    if (appliesToItemId && appliesToServiceId) p.add(at, 'Provide only one of appliesToItemId or appliesToServiceId');
    if (serviceId && description && Number.isFinite(quantity) && quantity > 0 && Number.isFinite(rate) && rate >= 0) {
      out.push({ serviceId, quantity, description, rate, isDiscount, discountType, appliesToItemId, appliesToServiceId });
    }
  });
  return out;
}

export function validateManualInvoice(raw: unknown): Validated {
  if (!isRecord(raw)) return { ok: false, error: 'Invalid request body', fieldErrors: { body: 'Expected JSON object' } };
  const p = new Problems();
  const clientId = uuid(raw.clientId, 'clientId', p);
  const list = items(raw.items, p);
  const invoiceDate = isoDate(raw.invoiceDate, 'invoiceDate', p);
  const dueDate = isoDate(raw.dueDate, 'dueDate', p);
  const poRaw = raw.poNumber === null ? null : trimmed(raw.poNumber);
  const poNumber = poRaw === null ? null : poRaw || undefined;
  if (typeof poNumber === 'string' && poNumber.length > 128) p.add('poNumber', 'Too long');
  if (p.any || !clientId) return { ok: false, error: 'Validation error', fieldErrors: p.map };
  return { ok: true, value: { clientId, items: list, invoiceDate, dueDate, poNumber } };
}
