/**
 * `invoicing.create-manual-invoice` (cap:invoice.manual.create): one request to the platform's
 * invoicing API (in-process or over HTTP, the same body), its answer mapped to the result record as
 * production's runner maps it (docs/production-contract.md#invoicing): a non-2xx is `http {status}:
 * {raw body}` (field errors only inside that text), a 2xx body gives `success`, the ids and totals
 * from the top level or from `invoice`, `fieldErrors` as a string.
 */
import type { CreateManualInvoiceInput, CreateManualInvoiceResult } from '../wit-types/interfaces/alga-extension-types.js';
import { ok, type HostInterface } from './types.js';

const failure = (error: string): { ok: CreateManualInvoiceResult } => ok({ success: false, error });

/** Production's body: absent optional fields left out (older validators read `null` as present). */
export function invoiceBody(input: CreateManualInvoiceInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    operation: 'createManualInvoice',
    clientId: input.clientId,
    items: input.items.map((i) => {
      const item: Record<string, unknown> = { serviceId: i.serviceId, quantity: finiteOr0(i.quantity), description: i.description, rate: finiteOr0(i.rate) };
      if (i.isDiscount !== undefined) item.isDiscount = i.isDiscount;
      if (i.discountType !== undefined) item.discountType = i.discountType;
      if (i.appliesToItemId !== undefined) item.appliesToItemId = i.appliesToItemId;
      if (i.appliesToServiceId !== undefined) item.appliesToServiceId = i.appliesToServiceId;
      return item;
    }),
  };
  if (input.invoiceDate !== undefined) body.invoiceDate = input.invoiceDate;
  if (input.dueDate !== undefined) body.dueDate = input.dueDate;
  if (input.poNumber !== undefined) body.poNumber = input.poNumber;
  return body;
}
/** serde_json has no NaN or infinity: production sends 0. */
const finiteOr0 = (n: number) => (Number.isFinite(n) ? n : 0);

/** A 2xx body → the record (production's parse_create_manual_invoice_result). */
export function toInvoiceResult(value: unknown): CreateManualInvoiceResult {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { success: false, error: 'invalid response' };
  const o = value as Record<string, unknown>;
  const inv = o.invoice && typeof o.invoice === 'object' && !Array.isArray(o.invoice) ? (o.invoice as Record<string, unknown>) : undefined;
  const str = (...keys: string[]) => {
    for (const k of keys) {
      if (typeof o[k] === 'string') return o[k] as string;
      if (inv && typeof inv[k] === 'string') return inv[k] as string;
    }
    return undefined;
  };
  const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : inv && typeof inv[k] === 'number' ? (inv[k] as number) : undefined);
  const fe = 'fieldErrors' in o ? o.fieldErrors : o.field_errors;
  return {
    success: typeof o.success === 'boolean' ? o.success : false,
    invoiceId: str('invoiceId', 'invoice_id'),
    invoiceNumber: str('invoiceNumber', 'invoice_number'),
    status: str('status'),
    subtotal: num('subtotal'),
    tax: num('tax'),
    total: num('total'),
    error: typeof o.error === 'string' ? o.error : undefined,
    fieldErrors: fe === null || fe === undefined ? undefined : typeof fe === 'string' ? fe : JSON.stringify(fe),
  };
}

export const invoicing: HostInterface<'alga:extension/invoicing'> = {
  functions: {
    createManualInvoice: async (ctx, [input], signal) => {
      if (!ctx.granted.has('cap:invoice.manual.create')) return failure('Permission denied: cap:invoice.manual.create not granted');
      const installId = ctx.context.installId;
      if (installId === undefined) return failure('Permission denied: install_id missing');
      const backend = ctx.services.platformApi;
      if (!backend) return failure('invoicing base URL not configured');
      const reply = await backend.call('invoicing', installId, invoiceBody(input), signal);
      if (reply.kind === 'unreachable') {
        ctx.logger.error('invoicing request failed', { reason: reply.reason, error: reply.message });
        if (reply.reason === 'no-base-url') return failure('invoicing base URL not configured');
        if (reply.reason === 'no-token') return failure('runner auth token not configured');
        return failure('transport failure');
      }
      if (reply.status < 200 || reply.status > 299) return failure(`http ${reply.status}: ${reply.text}`);
      if (reply.text.trim() === '') return ok(toInvoiceResult(null));
      let value: unknown;
      try {
        value = JSON.parse(reply.text);
      } catch {
        return failure('invalid JSON response');
      }
      return ok(toInvoiceResult(value));
    },
  },
  onInternalError: () => ok({ success: false, error: 'Internal error' }),
};
