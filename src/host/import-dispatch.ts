/** Routes one execution's guest import calls to the host interface that implements them. */
import type { HostCallHandler } from './sandbox/pool.js';
import type { HostOutcome } from './sandbox/protocol.js';
import { HOST_INTERFACES } from './interfaces/index.js';
import type { ExecutionContext } from './interfaces/types.js';
import type { InterfaceName } from './world.js';

/** One execution's import calls; an unexpected throw becomes the function's
 * internal-error WIT value, never a trap. */
export function createImportDispatch(ctx: ExecutionContext): HostCallHandler {
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
