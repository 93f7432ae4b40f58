import { err, type HostInterface } from './types.js';

/** `clients` and `services` read APIs: production's capability and paging checks (page ≥ 1,
 * page size 1–100, defaults 1 and 25); the data lives in the Alga server, not here → `internal`. */
const pagingValid = ({ page = 1, pageSize = 25 }: { page?: number; pageSize?: number }) => page >= 1 && pageSize >= 1 && pageSize <= 100;

export const clients: HostInterface<'alga:extension/clients'> = {
  functions: {
    listClients: (ctx, [input]) => {
      if (!ctx.granted.has('cap:client.read')) return err('not-allowed');
      return pagingValid(input) ? err('internal') : err('invalid-input');
    },
    getClient: (ctx) => (ctx.granted.has('cap:client.read') ? err('internal') : err('not-allowed')),
  },
  onInternalError: () => err('internal'),
};

export const services: HostInterface<'alga:extension/services'> = {
  functions: {
    listServices: (ctx, [input]) => {
      if (!ctx.granted.has('cap:service.read')) return err('not-allowed');
      return pagingValid(input) ? err('internal') : err('invalid-input');
    },
    getService: (ctx) => (ctx.granted.has('cap:service.read') ? err('internal') : err('not-allowed')),
  },
  onInternalError: () => err('internal'),
};
