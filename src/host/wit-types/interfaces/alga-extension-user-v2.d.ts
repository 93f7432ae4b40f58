/** @module Interface alga:extension/user-v2 **/
export function getUser(): UserDataV2;
export type UserDataV2 = import('./alga-extension-types.js').UserDataV2;
export type UserError = import('./alga-extension-types.js').UserError;
