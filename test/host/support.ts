import { DEFAULT_CAPABILITIES, type Capability } from '../../src/shared/capabilities.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { ExecutionContext, HostServices } from '../../src/host/interfaces/types.js';
import { lookupImport } from '../../src/host/import-dispatch.js';
import type { HostOutcome } from '../../src/host/sandbox/protocol.js';
import type { InterfaceName } from '../../src/host/world.js';

/** An execution context as the runner builds it, for calling host functions directly. */
export function executionContext(o: { grant?: Capability[]; installId?: string | null; services?: HostServices; user?: ExecutionContext['user']; secrets?: Record<string, string> } = {}): ExecutionContext {
  return {
    context: { requestId: 'req-1', tenantId: 'tenant-1', extensionId: 'ext-1', installId: o.installId === null ? undefined : (o.installId ?? '11111111-1111-4111-8111-111111111111'), versionId: 'ver-1' },
    granted: new Set<Capability>([...DEFAULT_CAPABILITIES, ...(o.grant ?? [])]),
    user: o.user,
    secrets: o.secrets,
    logger: silentLogger,
    services: o.services ?? {},
    guestLogs: [],
  };
}

/** Calls a host function as the sandbox does (by name, through the import dispatch's lookup). */
export async function callHost(ctx: ExecutionContext, iface: InterfaceName, fn: string, ...args: unknown[]): Promise<HostOutcome> {
  const impl = lookupImport(iface, fn);
  if (!impl) throw new Error(`${iface}#${fn} is not an import of the world`);
  return impl.functions[fn]!(ctx, args, new AbortController().signal);
}
