import { err, ok, type InGuestInterface } from './types.js';

/** `secrets`: values come from the request's secret envelope (decrypted before the guest runs). */
export const secrets: InGuestInterface<'alga:extension/secrets'> = {
  functions: {
    get: (ctx, [key]) => {
      if (!ctx.granted.has('cap:secrets.get')) return err('denied');
      if (!ctx.secrets) return err('missing');
      const value = ctx.secrets[key];
      return value === undefined ? err('missing') : ok(value);
    },
    // Production answers an empty list, not an error, without the capability.
    listKeys: (ctx) => ok(ctx.granted.has('cap:secrets.get') && ctx.secrets ? Object.keys(ctx.secrets).sort() : []),
  },
  onInternalError: (fn) => (fn === 'listKeys' ? ok([]) : err('internal')),
};
