import { ok, type InGuestInterface } from './types.js';
import type { InGuestContext } from './types.js';
import type { LogFields } from '../../shared/logger.js';

const OK_VOID = ok(undefined);
const LEVEL = { logInfo: 'info', logWarn: 'warn', logError: 'error' } as const;
/** Lines kept per execution (they all still reach the logger): a chatty guest cannot grow memory. */
const MAX_KEPT_LINES = 1000;

/** The fields of an execution's guest lines, built once: the sandbox's line ring writes a fields
 * object it saw on the line before without serializing it again. */
const lineFields = new WeakMap<InGuestContext, LogFields>();

function fieldsOf(ctx: InGuestContext): LogFields {
  let fields = lineFields.get(ctx);
  if (!fields) {
    fields = { source: 'ext', tenant: ctx.context.tenantId, extension: ctx.context.extensionId, request_id: ctx.context.requestId };
    lineFields.set(ctx, fields);
  }
  return fields;
}

function emit(ctx: InGuestContext, level: 'info' | 'warn' | 'error', message: string) {
  // Without cap:log.emit production drops the line silently.
  if (!ctx.granted.has('cap:log.emit')) return ok(undefined);
  if (ctx.guestLogs.length < MAX_KEPT_LINES) ctx.guestLogs.push({ level, message });
  ctx.logger[level](message, fieldsOf(ctx));
  return OK_VOID;
}

export const logging: InGuestInterface<'alga:extension/logging'> = {
  functions: {
    logInfo: (ctx, [m]) => emit(ctx, LEVEL.logInfo, m),
    logWarn: (ctx, [m]) => emit(ctx, LEVEL.logWarn, m),
    logError: (ctx, [m]) => emit(ctx, LEVEL.logError, m),
  },
  onInternalError: () => ok(undefined),
};
