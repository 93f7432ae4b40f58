/** Routes one execution's guest import calls to the host interface that implements them. */
import type { HostCallHandler } from './sandbox/pool.js';
import type { HostOutcome } from './sandbox/protocol.js';
import { HOST_INTERFACES } from './interfaces/index.js';
import { OUTGOING_HANDLER, outgoingHandler } from './interfaces/wasi-http.js';
import type { ExecutionContext } from './interfaces/types.js';
import { WORLD_IMPORTS, type InterfaceName } from './world.js';

type UntypedFunction = (ctx: ExecutionContext, args: unknown[], signal: AbortSignal) => HostOutcome | Promise<HostOutcome>;
interface UntypedInterface {
  functions: Record<string, UntypedFunction>;
  onInternalError(fn: string, err: unknown): HostOutcome;
}

/**
 * The one place where a call named by strings (it crossed the thread boundary as a message) meets
 * the typed implementations. Only names of the world are accepted; the arguments are what jco lifted
 * from the guest for that function, so they have its WIT types by construction. Besides the world,
 * the guest thread's wasi:http `handle` (interfaces/wasi-http.ts) sends its requests here.
 */
export function lookupImport(iface: string, fn: string): UntypedInterface | undefined {
  if (iface === OUTGOING_HANDLER) return fn === 'handle' ? outgoingHandler : undefined;
  if (!Object.hasOwn(WORLD_IMPORTS, iface)) return undefined;
  const name = iface as InterfaceName;
  if (!(WORLD_IMPORTS[name] as readonly string[]).includes(fn)) return undefined;
  return HOST_INTERFACES[name] as unknown as UntypedInterface;
}

/** One execution's import calls; an unexpected throw becomes the function's internal-error WIT
 * value, never a trap. */
export function createImportDispatch(ctx: ExecutionContext): HostCallHandler {
  return async (iface, fn, args, signal): Promise<HostOutcome> => {
    const impl = lookupImport(iface, fn);
    if (!impl) return { trap: `unknown import ${iface}#${fn}` };
    try {
      return await impl.functions[fn]!(ctx, args, signal);
    } catch (e) {
      ctx.logger.error('host function failed', { iface, fn, error: (e as Error)?.message ?? String(e) });
      return impl.onInternalError(fn, e);
    }
  };
}
