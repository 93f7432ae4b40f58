/**
 * Host calls of warm-up executions (a synthetic request run once per instance before any real one):
 * the real interface code, with the default read capabilities, no services, no secrets, no user and
 * a silent logger — so a warm-up can reach nothing outside the sandbox, and a guest that reads its
 * context at the top of every request still warms up instead of trapping.
 */
import { silentLogger } from '../../shared/logger.js';
import { createImportDispatch } from '../import-dispatch.js';
import type { HostOutcome } from './protocol.js';
import { WARMUP_DATA } from './warmup-data.js';

export function createWarmupHostCall(): (iface: string, fn: string, args: unknown[]) => Promise<HostOutcome> {
  const dispatch = createImportDispatch({
    ...WARMUP_DATA,
    logger: silentLogger,
    services: {},
    guestLogs: [],
  });
  const signal = new AbortController().signal;
  return (iface, fn, args) => dispatch(iface, fn, args, signal);
}
