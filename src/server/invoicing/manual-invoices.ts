/**
 * Draft manual invoices of the local platform (docs/differences.md#local-platform): the client and
 * every service must exist in the platform data (production's `Client not found` / `Service not
 * found`), charges are computed in whole currency units as production rounds rates, and the invoice,
 * its number and its charges are written by one statement. There are no tax rates locally: tax is 0.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import type { PlatformData } from '../platform-data/platform-data.js';
import type { ManualInvoiceInput } from './validation.js';

export interface InvoiceSummary {
  invoiceId: string;
  invoiceNumber: string;
  status: string;
  subtotal: number;
  tax: number;
  total: number;
}

export type CreateInvoiceResult =
  | { success: true; invoice: InvoiceSummary }
  | { success: false; error: string; fieldErrors?: Record<string, string> };

export interface InstallRef {
  tenantId: string;
  installId: string;
}

interface Charge {
  itemId: string;
  serviceId: string;
  description: string;
  quantity: number;
  unitPrice: number;
  netAmount: number;
  isDiscount: boolean;
  discountType: string | null;
  appliesToItemId: string | null;
  appliesToServiceId: string | null;
}

/** Regular lines first (quantity × rounded rate); then each discount: a fixed amount, or a percentage
 * of the line it applies to, of the lines of the service it applies to, or of every regular line. */
export function computeCharges(input: ManualInvoiceInput): Charge[] {
  const charges: Charge[] = input.items.map((item) => {
    const unitPrice = Math.round(item.rate);
    return {
      itemId: randomUUID(),
      serviceId: item.serviceId,
      description: item.description,
      quantity: item.quantity,
      unitPrice,
      netAmount: item.isDiscount ? 0 : Math.round(item.quantity * unitPrice),
      isDiscount: Boolean(item.isDiscount),
      discountType: item.discountType ?? null,
      appliesToItemId: item.appliesToItemId ?? null,
      appliesToServiceId: item.appliesToServiceId ?? null,
    };
  });
  const regular = charges.filter((c) => !c.isDiscount);
  for (const c of charges) {
    if (!c.isDiscount) continue;
    if (c.discountType === 'fixed') {
      c.netAmount = -Math.round(c.quantity * c.unitPrice);
      continue;
    }
    const base = c.appliesToItemId
      ? regular.filter((r) => r.itemId === c.appliesToItemId)
      : c.appliesToServiceId
        ? regular.filter((r) => r.serviceId.toLowerCase() === c.appliesToServiceId!.toLowerCase())
        : regular;
    c.netAmount = -Math.round((base.reduce((s, r) => s + r.netAmount, 0) * c.unitPrice) / 100);
  }
  return charges;
}

const INSERT_INVOICE = /* sql */ `
WITH num AS (
  INSERT INTO next_number (tenant, entity_type, last_number) VALUES ($1, 'INVOICE', 1)
  ON CONFLICT (tenant, entity_type) DO UPDATE SET last_number = next_number.last_number + 1
  RETURNING last_number
), inv AS (
  INSERT INTO invoices (invoice_id, tenant, client_id, invoice_number, invoice_date, due_date, po_number, status,
                        subtotal, tax, total_amount, is_manual, created_by_install_id)
  SELECT $2, $1, $3, 'INV-' || lpad(num.last_number::text, 6, '0'), $4::date, $5::date, $6, 'draft', $7, 0, $7, true, $8
    FROM num
  RETURNING invoice_id, invoice_number, status, subtotal, tax, total_amount
), charges AS (
  INSERT INTO invoice_charges (item_id, invoice_id, tenant, position, service_id, description, quantity, unit_price, net_amount,
                               is_discount, discount_type, applies_to_item_id, applies_to_service_id)
  SELECT c."itemId", inv.invoice_id, $1, c.position, c."serviceId", c.description, c.quantity, c."unitPrice", c."netAmount",
         c."isDiscount", c."discountType", c."appliesToItemId", c."appliesToServiceId"
    FROM inv, jsonb_to_recordset($9::jsonb) AS c(position int, "itemId" uuid, "serviceId" uuid, description text, quantity numeric,
         "unitPrice" bigint, "netAmount" bigint, "isDiscount" boolean, "discountType" text, "appliesToItemId" uuid, "appliesToServiceId" uuid)
)
SELECT invoice_id, invoice_number, status, subtotal, tax, total_amount FROM inv`;

/** `today` is the platform clock's date (YYYY-MM-DD), production's default invoice date. */
export async function createManualInvoice(
  q: Queryable,
  install: InstallRef,
  data: PlatformData,
  input: ManualInvoiceInput,
  today: string,
): Promise<CreateInvoiceResult> {
  const clientId = input.clientId.toLowerCase();
  if (!data.clients.some((c) => c.clientId.toLowerCase() === clientId)) {
    return { success: false, error: 'Client not found', fieldErrors: { clientId: 'Client not found' } };
  }
  const known = new Set(data.services.map((s) => s.serviceId.toLowerCase()));
  if (input.items.some((i) => !known.has(i.serviceId.toLowerCase()))) {
    return { success: false, error: 'Service not found', fieldErrors: { serviceId: 'Service not found' } };
  }
  const charges = computeCharges(input);
  const subtotal = charges.reduce((s, c) => s + c.netAmount, 0);
  const invoiceDate = input.invoiceDate ?? today;
  const dueDate = input.dueDate ?? invoiceDate;
  let row;
  try {
    const r = await q.query(INSERT_INVOICE, [
      install.tenantId,
      randomUUID(),
      input.clientId,
      invoiceDate,
      dueDate,
      input.poNumber ?? null,
      subtotal,
      install.installId,
      JSON.stringify(charges.map((c, position) => ({ ...c, position }))),
    ]);
    row = r.rows[0];
  } catch (e) {
    // A date that matches YYYY-MM-DD but is no date (2026-02-30): production's insert fails the same way.
    if ((e as { code?: string }).code === '22008' || (e as { code?: string }).code === '22007') return { success: false, error: (e as Error).message };
    throw e;
  }
  return {
    success: true,
    invoice: {
      invoiceId: row.invoice_id,
      invoiceNumber: row.invoice_number,
      status: row.status,
      subtotal: Number(row.subtotal),
      tax: Number(row.tax),
      total: Number(row.total_amount),
    },
  };
}

export interface StoredInvoice extends InvoiceSummary {
  tenantId: string;
  clientId: string;
  invoiceDate: string;
  dueDate: string;
  poNumber: string | null;
  installId: string | null;
  createdAt: string;
  items: {
    itemId: string;
    serviceId: string;
    description: string;
    quantity: number;
    rate: number;
    netAmount: number;
    isDiscount: boolean;
    discountType: string | null;
    appliesToItemId: string | null;
    appliesToServiceId: string | null;
  }[];
}

/** Every invoice, newest first, optionally of one tenant (`alga-runner invoices list`, the dev route). */
export async function listInvoices(q: Queryable, o: { tenantId?: string; limit?: number } = {}): Promise<StoredInvoice[]> {
  const r = await q.query(
    `SELECT i.*, to_char(i.invoice_date, 'YYYY-MM-DD') AS invoice_day, to_char(i.due_date, 'YYYY-MM-DD') AS due_day,
            coalesce((SELECT json_agg(json_build_object(
               'itemId', c.item_id, 'serviceId', c.service_id, 'description', c.description, 'quantity', c.quantity::float8,
               'rate', c.unit_price, 'netAmount', c.net_amount, 'isDiscount', c.is_discount, 'discountType', c.discount_type,
               'appliesToItemId', c.applies_to_item_id, 'appliesToServiceId', c.applies_to_service_id) ORDER BY c.position)
             FROM invoice_charges c WHERE c.invoice_id = i.invoice_id), '[]') AS items
       FROM invoices i
      WHERE ($1::text IS NULL OR i.tenant = $1)
      ORDER BY i.created_at DESC, i.invoice_number DESC
      LIMIT $2`,
    [o.tenantId ?? null, o.limit ?? 1000],
  );
  return r.rows.map((row) => ({
    invoiceId: row.invoice_id,
    invoiceNumber: row.invoice_number,
    status: row.status,
    subtotal: Number(row.subtotal),
    tax: Number(row.tax),
    total: Number(row.total_amount),
    tenantId: row.tenant,
    clientId: row.client_id,
    invoiceDate: row.invoice_day,
    dueDate: row.due_day,
    poNumber: row.po_number,
    installId: row.created_by_install_id,
    createdAt: new Date(row.created_at).toISOString(),
    items: row.items.map((i: StoredInvoice['items'][number]) => ({ ...i, rate: Number(i.rate), netAmount: Number(i.netAmount) })),
  }));
}
