/** @module Interface alga:extension/invoicing **/
export function createManualInvoice(input: CreateManualInvoiceInput): CreateManualInvoiceResult;
export type CreateManualInvoiceInput = import('./alga-extension-types.js').CreateManualInvoiceInput;
export type CreateManualInvoiceResult = import('./alga-extension-types.js').CreateManualInvoiceResult;
