/// <reference path="./alga-extension-types.d.ts" />
declare module 'alga:extension/user' {
  export function getUser(): UserData;
  export type UserData = import('alga:extension/types').UserData;
  export type UserError = import('alga:extension/types').UserError;
}
