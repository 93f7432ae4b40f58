import { ok, type HostInterface } from './types.js';

/** `invoicing.create-manual-invoice` (cap:invoice.manual.create): production's denial records;
 * invoicing itself belongs to the Alga server and is not simulated here. */
export const invoicing: HostInterface<'alga:extension/invoicing'> = {
  functions: {
    createManualInvoice: (ctx) => {
      if (!ctx.granted.has('cap:invoice.manual.create')) {
        return ok({ success: false, error: 'Permission denied: cap:invoice.manual.create not granted' });
      }
      if (!ctx.context.installId) return ok({ success: false, error: 'Permission denied: install_id missing' });
      return ok({ success: false, error: 'Invoicing is not available in this runner' });
    },
  },
  onInternalError: () => ok({ success: false, error: 'Internal error' }),
};
