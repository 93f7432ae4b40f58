/// <reference path="./interfaces/alga-extension-clients.d.ts" />
/// <reference path="./interfaces/alga-extension-context.d.ts" />
/// <reference path="./interfaces/alga-extension-http.d.ts" />
/// <reference path="./interfaces/alga-extension-invoicing.d.ts" />
/// <reference path="./interfaces/alga-extension-logging.d.ts" />
/// <reference path="./interfaces/alga-extension-scheduler.d.ts" />
/// <reference path="./interfaces/alga-extension-secrets.d.ts" />
/// <reference path="./interfaces/alga-extension-services.d.ts" />
/// <reference path="./interfaces/alga-extension-storage.d.ts" />
/// <reference path="./interfaces/alga-extension-types.d.ts" />
/// <reference path="./interfaces/alga-extension-ui-proxy.d.ts" />
/// <reference path="./interfaces/alga-extension-user-v2.d.ts" />
/// <reference path="./interfaces/alga-extension-user.d.ts" />
declare module 'alga:extension/runner' {
  export type ExecuteRequest = import('alga:extension/types').ExecuteRequest;
  export type ExecuteResponse = import('alga:extension/types').ExecuteResponse;
  export type * as AlgaExtensionClients from 'alga:extension/clients'; // import alga:extension/clients
  export type * as AlgaExtensionContext from 'alga:extension/context'; // import alga:extension/context
  export type * as AlgaExtensionHttp from 'alga:extension/http'; // import alga:extension/http
  export type * as AlgaExtensionInvoicing from 'alga:extension/invoicing'; // import alga:extension/invoicing
  export type * as AlgaExtensionLogging from 'alga:extension/logging'; // import alga:extension/logging
  export type * as AlgaExtensionScheduler from 'alga:extension/scheduler'; // import alga:extension/scheduler
  export type * as AlgaExtensionSecrets from 'alga:extension/secrets'; // import alga:extension/secrets
  export type * as AlgaExtensionServices from 'alga:extension/services'; // import alga:extension/services
  export type * as AlgaExtensionStorage from 'alga:extension/storage'; // import alga:extension/storage
  export type * as AlgaExtensionTypes from 'alga:extension/types'; // import alga:extension/types
  export type * as AlgaExtensionUiProxy from 'alga:extension/ui-proxy'; // import alga:extension/ui-proxy
  export type * as AlgaExtensionUser from 'alga:extension/user'; // import alga:extension/user
  export type * as AlgaExtensionUserV2 from 'alga:extension/user-v2'; // import alga:extension/user-v2
  export function handler(request: ExecuteRequest): ExecuteResponse;
}
