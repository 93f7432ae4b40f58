/**
 * The imported interfaces of `alga:extension/runner` and their functions (jco camelCase names),
 * in world order. The sandbox builds the guest's import object from this list, so every import
 * exists at instantiation (jco refuses a missing one). `world.test.ts` checks it against wit/.
 */
export const WORLD_IMPORTS = {
  'alga:extension/context': ['getContext'],
  'alga:extension/secrets': ['get', 'listKeys'],
  'alga:extension/http': ['fetch'],
  'alga:extension/storage': ['get', 'put', 'delete', 'listEntries'],
  'alga:extension/logging': ['logInfo', 'logWarn', 'logError'],
  'alga:extension/ui-proxy': ['callRoute'],
  'alga:extension/user': ['getUser'],
  'alga:extension/user-v2': ['getUser'],
  'alga:extension/scheduler': ['listSchedules', 'getSchedule', 'createSchedule', 'updateSchedule', 'deleteSchedule', 'getEndpoints'],
  'alga:extension/invoicing': ['createManualInvoice'],
  'alga:extension/clients': ['listClients', 'getClient'],
  'alga:extension/services': ['listServices', 'getService'],
} as const;

export type InterfaceName = keyof typeof WORLD_IMPORTS;
export type FunctionName<I extends InterfaceName> = (typeof WORLD_IMPORTS)[I][number];
