import { ok, type InGuestInterface } from './types.js';
import type { InGuestContext } from './types.js';

const LEVEL = { logInfo: 'info', logWarn: 'warn', logError: 'error' } as const;
/** Lines kept per execution (they all still reach the logger): a chatty guest cannot grow memory. */
const MAX_KEPT_LINES = 1000;

function emit(ctx: InGuestContext, level: 'info' | 'warn' | 'error', message: string) {
  // Without cap:log.emit production drops the line silently.
  if (!ctx.granted.has('cap:log.emit')) return ok(undefined);
  if (ctx.guestLogs.length < MAX_KEPT_LINES) ctx.guestLogs.push({ level, message });
  ctx.logger[level](message, { source: 'ext', tenant: ctx.context.tenantId, extension: ctx.context.extensionId, request_id: ctx.context.requestId });
  return ok(undefined);
}

export const logging: InGuestInterface<'alga:extension/logging'> = {
  functions: {
    logInfo: (ctx, [m]) => emit(ctx, LEVEL.logInfo, m),
    logWarn: (ctx, [m]) => emit(ctx, LEVEL.logWarn, m),
    logError: (ctx, [m]) => emit(ctx, LEVEL.logError, m),
  },
  onInternalError: () => ok(undefined),
};
