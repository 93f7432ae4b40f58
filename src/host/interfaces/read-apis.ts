import { err, type HostInterface } from './types.js';
import type { Capability } from '../../shared/capabilities.js';

/** `clients` and `services` read APIs: production's capability and paging checks (page ≥ 1,
 * page size 1–100, defaults 1 and 25); the data lives in the Alga server, not here → `internal`. */
function readApi(cap: Capability, listFn: string, getFn: string): HostInterface {
  return {
    functions: {
      [listFn]: (ctx, [input]) => {
        if (!ctx.granted.has(cap)) return err('not-allowed');
        const { page = 1, pageSize = 25 } = (input ?? {}) as { page?: number; pageSize?: number };
        if (page < 1 || pageSize < 1 || pageSize > 100) return err('invalid-input');
        return err('internal');
      },
      [getFn]: (ctx) => (ctx.granted.has(cap) ? err('internal') : err('not-allowed')),
    },
    onInternalError: () => err('internal'),
  };
}

export const clients = readApi('cap:client.read', 'listClients', 'getClient');
export const services = readApi('cap:service.read', 'listServices', 'getService');
