/**
 * Host calls of warm-up executions (a synthetic request run once per instance before any real one):
 * the real interface code, with the default read capabilities, no services, no secrets, no user and
 * a silent logger — so a warm-up can reach nothing outside the sandbox, and a guest that reads its
 * context at the top of every request still warms up instead of trapping.
 */
import { DEFAULT_CAPABILITIES } from '../../shared/capabilities.js';
import { silentLogger } from '../../shared/logger.js';
import { createImportDispatch } from '../import-dispatch.js';
import type { HostOutcome } from './protocol.js';

export function createWarmupHostCall(): (iface: string, fn: string, args: unknown[]) => Promise<HostOutcome> {
  const dispatch = createImportDispatch({
    context: { requestId: 'alga-warmup', tenantId: '', extensionId: '' },
    // Without cap:log.emit the guest's log lines are dropped (nothing is collected across warm-ups).
    granted: new Set(DEFAULT_CAPABILITIES.filter((c) => c !== 'cap:log.emit')),
    logger: silentLogger,
    services: {},
    guestLogs: [],
  });
  const signal = new AbortController().signal;
  return (iface, fn, args) => dispatch(iface, fn, args, signal);
}
