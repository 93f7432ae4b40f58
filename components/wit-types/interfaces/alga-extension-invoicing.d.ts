/// <reference path="./alga-extension-types.d.ts" />
declare module 'alga:extension/invoicing' {
  export function createManualInvoice(input: CreateManualInvoiceInput): CreateManualInvoiceResult;
  export type CreateManualInvoiceInput = import('alga:extension/types').CreateManualInvoiceInput;
  export type CreateManualInvoiceResult = import('alga:extension/types').CreateManualInvoiceResult;
}
