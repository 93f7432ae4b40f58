/**
 * The platform's clients / services / invoicing routes by name, for the HTTP layer and for the
 * in-process runner alike (the same core answers both shapes).
 */
import type { PlatformApi } from '../../shared/platform-api.js';
import { handleInvoicingOperation, type InvoicingDeps } from './invoicing-operation.js';
import { handleClientsOperation, handleServicesOperation, type InternalReply } from './read-api-operation.js';

export type PlatformApiDeps = InvoicingDeps;

export const PLATFORM_API_HANDLERS: Record<PlatformApi, (deps: PlatformApiDeps, installId: string, body: unknown) => Promise<InternalReply>> = {
  clients: handleClientsOperation,
  services: handleServicesOperation,
  invoicing: handleInvoicingOperation,
};

/** In-process: the body crosses as JSON would (undefined fields dropped), the answer as its text. */
export async function callPlatformApi(deps: PlatformApiDeps, api: PlatformApi, installId: string, body: unknown): Promise<{ status: number; text: string }> {
  const reply = await PLATFORM_API_HANDLERS[api](deps, installId, JSON.parse(JSON.stringify(body ?? null)));
  return { status: reply.status, text: JSON.stringify(reply.body) };
}
