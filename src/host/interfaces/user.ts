import { err, ok, type InGuestInterface } from './types.js';
import type { InGuestContext } from './types.js';

/**
 * `user.get-user` and `user-v2.get-user`. The record carries the union of every historical field
 * (`company-name` of January 2026 beside today's `client-name`, `user-type`, `client-id`): a guest
 * reads only the fields it was built with, and a missing string field would trap it (docs/production-contract.md#world-history).
 */
function userRecord(ctx: InGuestContext) {
  if (!ctx.granted.has('cap:user.read')) return err('not-allowed');
  const u = ctx.user;
  if (!u) return err('not-available');
  return ok({
    tenantId: u.tenantId,
    clientName: u.clientName,
    companyName: u.clientName,
    userId: u.userId,
    userEmail: u.userEmail,
    userName: u.userName,
    userType: u.userType,
    clientId: u.clientId,
    additionalFields: Object.entries(u.additionalFields),
  });
}

export const user: InGuestInterface<'alga:extension/user'> = {
  functions: { getUser: (ctx) => userRecord(ctx) },
  onInternalError: () => err('not-available'),
};

export const userV2: InGuestInterface<'alga:extension/user-v2'> = {
  functions: { getUser: (ctx) => userRecord(ctx) },
  onInternalError: () => err('not-available'),
};
