// world alga:extension/runner
export type ExecuteRequest = import('./interfaces/alga-extension-types.js').ExecuteRequest;
export type ExecuteResponse = import('./interfaces/alga-extension-types.js').ExecuteResponse;
import type * as AlgaExtensionClients from './interfaces/alga-extension-clients.js'; // alga:extension/clients
import type * as AlgaExtensionContext from './interfaces/alga-extension-context.js'; // alga:extension/context
import type * as AlgaExtensionHttp from './interfaces/alga-extension-http.js'; // alga:extension/http
import type * as AlgaExtensionInvoicing from './interfaces/alga-extension-invoicing.js'; // alga:extension/invoicing
import type * as AlgaExtensionLogging from './interfaces/alga-extension-logging.js'; // alga:extension/logging
import type * as AlgaExtensionScheduler from './interfaces/alga-extension-scheduler.js'; // alga:extension/scheduler
import type * as AlgaExtensionSecrets from './interfaces/alga-extension-secrets.js'; // alga:extension/secrets
import type * as AlgaExtensionServices from './interfaces/alga-extension-services.js'; // alga:extension/services
import type * as AlgaExtensionStorage from './interfaces/alga-extension-storage.js'; // alga:extension/storage
import type * as AlgaExtensionTypes from './interfaces/alga-extension-types.js'; // alga:extension/types
import type * as AlgaExtensionUiProxy from './interfaces/alga-extension-ui-proxy.js'; // alga:extension/ui-proxy
import type * as AlgaExtensionUser from './interfaces/alga-extension-user.js'; // alga:extension/user
import type * as AlgaExtensionUserV2 from './interfaces/alga-extension-user-v2.js'; // alga:extension/user-v2
export interface ImportObject {
  'alga:extension/clients': typeof AlgaExtensionClients,
  'alga:extension/context': typeof AlgaExtensionContext,
  'alga:extension/http': typeof AlgaExtensionHttp,
  'alga:extension/invoicing': typeof AlgaExtensionInvoicing,
  'alga:extension/logging': typeof AlgaExtensionLogging,
  'alga:extension/scheduler': typeof AlgaExtensionScheduler,
  'alga:extension/secrets': typeof AlgaExtensionSecrets,
  'alga:extension/services': typeof AlgaExtensionServices,
  'alga:extension/storage': typeof AlgaExtensionStorage,
  'alga:extension/types': typeof AlgaExtensionTypes,
  'alga:extension/ui-proxy': typeof AlgaExtensionUiProxy,
  'alga:extension/user': typeof AlgaExtensionUser,
  'alga:extension/user-v2': typeof AlgaExtensionUserV2,
}
export interface Runner {
  handler(request: ExecuteRequest): ExecuteResponse,
}

/**
* Instantiates this component with the provided imports and
* returns a map of all the exports of the component.
*
* This function is intended to be similar to the
* `WebAssembly.Instantiate` constructor. The second `imports`
* argument is the "import object" for wasm, except here it
* uses component-model-layer types instead of core wasm
* integers/numbers/etc.
*
* The first argument to this function, `getCoreModule`, is
* used to compile core wasm modules within the component.
* Components are composed of core wasm modules and this callback
* will be invoked per core wasm module. The caller of this
* function is responsible for reading the core wasm module
* identified by `path` and returning its compiled
* `WebAssembly.Module` object. This would use the
* `WebAssembly.Module` constructor on the web, for example.
*/
export function instantiate(
getCoreModule: (path: string) => WebAssembly.Module,
imports: ImportObject,
instantiateCore?: (module: WebAssembly.Module, imports: Record<string, any>) => WebAssembly.Instance
): Runner;
export function instantiate(
getCoreModule: (path: string) => WebAssembly.Module | Promise<WebAssembly.Module>,
imports: ImportObject,
instantiateCore?: (module: WebAssembly.Module, imports: Record<string, any>) => WebAssembly.Instance | Promise<WebAssembly.Instance>
): Runner | Promise<Runner>;

