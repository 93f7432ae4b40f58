/**
 * Production's internal invoicing route (docs/production-contract.md#invoicing) without the
 * `x-runner-auth` check (the HTTP layer's), usable in-process with the same bodies. Order as
 * production: operation → install (active, 404) → capability (403) → validation (400 with field
 * errors) → the draft invoice (201, or 400 for a domain failure). Never throws.
 */
import { silentLogger } from '../../shared/logger.js';
import { createManualInvoice } from '../invoicing/manual-invoices.js';
import { validateManualInvoice } from '../invoicing/validation.js';
import { findInstallById } from '../registry/registry.js';
import type { InternalReply, ReadApiDeps } from './read-api-operation.js';

export interface InvoicingDeps extends ReadApiDeps {
  /** The platform clock (the default invoice date is its day, UTC). */
  now?: () => Date;
}

export async function handleInvoicingOperation(deps: InvoicingDeps, installId: string, body: unknown): Promise<InternalReply> {
  const logger = deps.logger ?? silentLogger;
  try {
    if ((body as { operation?: unknown } | null | undefined)?.operation !== 'createManualInvoice') {
      return { status: 400, body: { error: 'Unsupported operation' } };
    }
    const install = await findInstallById(deps.pool, String(installId ?? '').trim());
    if (!install || !install.enabled) return { status: 404, body: { error: 'Install not found' } };
    if (!install.providers.includes('cap:invoice.manual.create')) {
      return { status: 403, body: { success: false, error: 'Permission denied: cap:invoice.manual.create not granted' } };
    }
    const validated = validateManualInvoice(body);
    if (!validated.ok) return { status: 400, body: { success: false, error: validated.error, fieldErrors: validated.fieldErrors } };
    const today = (deps.now?.() ?? new Date()).toISOString().slice(0, 10);
    const result = await createManualInvoice(deps.pool, install, deps.data, validated.value, today);
    if (result.success) logger.info('[ext-invoicing] draft manual invoice created', { tenantId: install.tenantId, installId: install.installId, invoiceNumber: result.invoice.invoiceNumber });
    return { status: result.success ? 201 : 400, body: result };
  } catch (e) {
    logger.error('[ext-invoicing-internal] unexpected error', { installId, error: (e as Error)?.message });
    return { status: 500, body: { error: 'Internal error', code: 'INTERNAL_ERROR' } };
  }
}
