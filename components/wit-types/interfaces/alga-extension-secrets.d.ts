/// <reference path="./alga-extension-types.d.ts" />
declare module 'alga:extension/secrets' {
  export function get(key: string): string;
  export function listKeys(): Array<string>;
  export type SecretError = import('alga:extension/types').SecretError;
}
