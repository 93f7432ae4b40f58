import { err, type HostInterface } from './types.js';

/** `ui-proxy.call-route` (cap:ui.proxy): production's checks; the proxy itself is not backed yet. */
export const uiProxy: HostInterface<'alga:extension/ui-proxy'> = {
  functions: {
    callRoute: (ctx, [route]) => {
      if (!ctx.granted.has('cap:ui.proxy')) return err('denied');
      if (!ctx.services.uiProxyBaseUrl) return err('route-not-found');
      const r = route.trim();
      if (!r || r.split('/').some((seg) => seg === '.' || seg === '..')) return err('bad-request');
      return err('internal');
    },
  },
  onInternalError: () => err('internal'),
};
