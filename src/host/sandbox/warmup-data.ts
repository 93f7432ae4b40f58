/**
 * What the imports of a warm-up execution (a synthetic request run once per instance before any
 * real one) see: the default read capabilities, no secrets, no user. Used in the sandbox worker
 * for the data-only imports and on the main thread (warmup-host.ts) for the others.
 */
import { DEFAULT_CAPABILITIES } from '../../shared/capabilities.js';
import type { ExecutionData } from '../interfaces/types.js';

export const WARMUP_DATA: ExecutionData = {
  context: { requestId: 'alga-warmup', tenantId: '', extensionId: '' },
  // Without cap:log.emit the guest's log lines are dropped (nothing is collected across warm-ups).
  granted: new Set(DEFAULT_CAPABILITIES.filter((c) => c !== 'cap:log.emit')),
};
