/** @module Interface alga:extension/context **/
export function getContext(): ContextData;
export type ContextData = import('./alga-extension-types.js').ContextData;
