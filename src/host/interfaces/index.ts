/** Every imported interface of the world, keyed as jco names them. */
import type { InterfaceName } from '../world.js';
import { context } from './context.js';
import { http } from './http.js';
import { invoicing } from './invoicing.js';
import { logging } from './logging.js';
import { clients, services } from './read-apis.js';
import { scheduler } from './scheduler.js';
import { secrets } from './secrets.js';
import { storage } from './storage.js';
import type { HostInterface } from './types.js';
import { uiProxy } from './ui-proxy.js';
import { user, userV2 } from './user.js';

/** The host side of the world: exactly one implementation for each imported interface. */
export const HOST_INTERFACES: { [I in InterfaceName]: HostInterface<I> } = {
  'alga:extension/context': context,
  'alga:extension/secrets': secrets,
  'alga:extension/http': http,
  'alga:extension/storage': storage,
  'alga:extension/logging': logging,
  'alga:extension/ui-proxy': uiProxy,
  'alga:extension/user': user,
  'alga:extension/user-v2': userV2,
  'alga:extension/scheduler': scheduler,
  'alga:extension/invoicing': invoicing,
  'alga:extension/clients': clients,
  'alga:extension/services': services,
};

export type { ExecutionContext, HostServices, RequestUser } from './types.js';
