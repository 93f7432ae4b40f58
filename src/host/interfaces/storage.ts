import { err, type HostInterface } from './types.js';
import type { ExecutionContext } from './types.js';
import type { StorageError } from '../wit-types/interfaces/alga-extension-types.js';

/** `storage` (cap:storage.kv). The KV store is not backed yet: granted calls answer `internal`,
 * as production does for a callback failure; the capability and install checks are production's. */
function gate(ctx: ExecutionContext): { err: StorageError } {
  if (!ctx.granted.has('cap:storage.kv')) return err('denied');
  if (!ctx.context.installId) return err('denied');
  return err('internal');
}

export const storage: HostInterface<'alga:extension/storage'> = {
  functions: {
    get: (ctx) => gate(ctx),
    put: (ctx) => gate(ctx),
    delete: (ctx) => gate(ctx),
    listEntries: (ctx) => gate(ctx),
  },
  onInternalError: () => err('internal'),
};
