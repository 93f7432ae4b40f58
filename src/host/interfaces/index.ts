/** Every imported interface of the world, keyed as jco names them, and the dispatcher the
 * sandbox calls for each guest import. */
import type { HostOutcome } from '../sandbox/protocol.js';
import type { HostCallHandler } from '../sandbox/pool.js';
import type { InterfaceName } from '../world.js';
import { context } from './context.js';
import { http } from './http.js';
import { invoicing } from './invoicing.js';
import { logging } from './logging.js';
import { clients, services } from './read-apis.js';
import { scheduler } from './scheduler.js';
import { secrets } from './secrets.js';
import { storage } from './storage.js';
import type { ExecutionContext, HostInterface } from './types.js';
import { uiProxy } from './ui-proxy.js';
import { user, userV2 } from './user.js';

export const HOST_INTERFACES: Record<InterfaceName, HostInterface> = {
  'alga:extension/context': context,
  'alga:extension/secrets': secrets,
  'alga:extension/http': http,
  'alga:extension/storage': storage,
  'alga:extension/logging': logging,
  'alga:extension/ui-proxy': uiProxy,
  'alga:extension/user': user,
  'alga:extension/user-v2': userV2,
  'alga:extension/scheduler': scheduler,
  'alga:extension/invoicing': invoicing,
  'alga:extension/clients': clients,
  'alga:extension/services': services,
};

/** Routes guest import calls of one execution; an unexpected throw becomes the function's
 * internal-error WIT value, never a trap. */
export function createHostDispatcher(ctx: ExecutionContext): HostCallHandler {
  return async (iface, fn, args, signal): Promise<HostOutcome> => {
    const impl = HOST_INTERFACES[iface as InterfaceName];
    const f = impl?.functions[fn];
    if (!impl || !f) return { trap: `unknown import ${iface}#${fn}` };
    try {
      return await f(ctx, args, signal);
    } catch (e) {
      ctx.logger.error('host function failed', { iface, fn, error: (e as Error)?.message ?? String(e) });
      return impl.onInternalError(fn, e);
    }
  };
}

export type { ExecutionContext, HostServices, RequestUser } from './types.js';
