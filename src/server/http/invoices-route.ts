/**
 * `GET /api/admin/invoices[?tenant=ID][&limit=N]` on the platform server: the draft manual invoices
 * extensions wrote (newest first, with their charges), for a developer to read back. Guarded like
 * the other admin routes (ALGA_ADMIN_TOKEN, else loopback callers only).
 */
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Route } from '../../shared/http-server.js';
import type { Queryable } from '../db/database.js';
import { checkAdminAuth } from '../execution/admin-routes.js';
import { listInvoices } from '../invoicing/manual-invoices.js';

export const ADMIN_INVOICES_PATH = '/api/admin/invoices';

export function invoicesRoutes(o: { pool: Queryable; token: string | undefined; production?: boolean }): Route[] {
  return [
    {
      method: 'GET',
      path: ADMIN_INVOICES_PATH,
      handle: async (req, res, url) => {
        checkAdminAuth(req, o);
        const rawLimit = url.searchParams.get('limit');
        const limit = rawLimit === null || rawLimit === '' ? undefined : Number(rawLimit);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
          throw new HttpError(400, 'invalid_argument', 'limit must be an integer from 1 to 1000');
        }
        const tenantId = url.searchParams.get('tenant')?.trim() || undefined;
        sendJson(res, 200, { invoices: await listInvoices(o.pool, { tenantId, limit }) });
      },
    },
  ];
}
