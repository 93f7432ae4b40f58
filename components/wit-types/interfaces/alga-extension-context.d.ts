/// <reference path="./alga-extension-types.d.ts" />
declare module 'alga:extension/context' {
  export function getContext(): ContextData;
  export type ContextData = import('alga:extension/types').ContextData;
}
