import { ok, type InGuestInterface } from './types.js';

/** `context.get-context`. Without cap:context.read production panics (a trap → execute_failed);
 * unreachable in practice since the capability is a default. */
export const context: InGuestInterface<'alga:extension/context'> = {
  functions: {
    getContext: (ctx) =>
      ctx.granted.has('cap:context.read') ? ok(ctx.context) : { trap: 'capability_not_granted: cap:context.read' },
  },
  onInternalError: () => ({ trap: 'context unavailable' }),
};
