/**
 * The interfaces answered from the execution's own data (context, user, user-v2, secrets,
 * logging): their functions run in the sandbox worker, on the guest's thread, with the data that
 * travelled with the task (`ExecutionData`), so a call costs no thread hop. The same functions are in
 * HOST_INTERFACES, so capability checks and WIT values are one implementation wherever they run.
 * Every other import does I/O and goes to the main thread (sandbox/guest-thread.ts).
 */
import type { InterfaceName } from '../world.js';
import { context } from './context.js';
import { logging } from './logging.js';
import { secrets } from './secrets.js';
import type { InGuestInterface } from './types.js';
import { user, userV2 } from './user.js';

export const IN_GUEST_INTERFACES: { [I in InterfaceName]?: InGuestInterface<I> } = {
  'alga:extension/context': context,
  'alga:extension/secrets': secrets,
  'alga:extension/logging': logging,
  'alga:extension/user': user,
  'alga:extension/user-v2': userV2,
};
