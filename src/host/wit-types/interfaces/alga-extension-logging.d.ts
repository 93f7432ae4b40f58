/** @module Interface alga:extension/logging **/
export function logInfo(message: string): void;
export function logWarn(message: string): void;
export function logError(message: string): void;
