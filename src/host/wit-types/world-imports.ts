// Generated from wit/ by scripts/gen-wit-types.mjs. Do not edit.
import type * as T from './interfaces/alga-extension-types.js';

/** The imported interfaces of world `runner`, in world order, with their functions (jco's names). */
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

/** Per imported function, the error type of its WIT `result`; `never` where it returns no result. */
export interface WorldImportErrors {
  'alga:extension/context': { getContext: never; };
  'alga:extension/secrets': { get: T.SecretError; listKeys: never; };
  'alga:extension/http': { fetch: T.HttpError; };
  'alga:extension/storage': { get: T.StorageError; put: T.StorageError; delete: T.StorageError; listEntries: T.StorageError; };
  'alga:extension/logging': { logInfo: never; logWarn: never; logError: never; };
  'alga:extension/ui-proxy': { callRoute: T.ProxyError; };
  'alga:extension/user': { getUser: T.UserError; };
  'alga:extension/user-v2': { getUser: T.UserError; };
  'alga:extension/scheduler': { listSchedules: T.SchedulerError; getSchedule: T.SchedulerError; createSchedule: never; updateSchedule: never; deleteSchedule: never; getEndpoints: T.SchedulerError; };
  'alga:extension/invoicing': { createManualInvoice: never; };
  'alga:extension/clients': { listClients: T.ClientReadError; getClient: T.ClientReadError; };
  'alga:extension/services': { listServices: T.ServiceReadError; getService: T.ServiceReadError; };
}
