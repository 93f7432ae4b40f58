/** @module Interface alga:extension/clients **/
export function listClients(input: ClientsListInput): ClientsListResult;
export function getClient(clientId: string): ClientSummary | undefined;
export type ClientsListInput = import('./alga-extension-types.js').ClientsListInput;
export type ClientsListResult = import('./alga-extension-types.js').ClientsListResult;
export type ClientSummary = import('./alga-extension-types.js').ClientSummary;
export type ClientReadError = import('./alga-extension-types.js').ClientReadError;
