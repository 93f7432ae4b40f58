/// <reference path="./alga-extension-types.d.ts" />
declare module 'alga:extension/clients' {
  export function listClients(input: ClientsListInput): ClientsListResult;
  export function getClient(clientId: string): ClientSummary | undefined;
  export type ClientsListInput = import('alga:extension/types').ClientsListInput;
  export type ClientsListResult = import('alga:extension/types').ClientsListResult;
  export type ClientSummary = import('alga:extension/types').ClientSummary;
  export type ClientReadError = import('alga:extension/types').ClientReadError;
}
