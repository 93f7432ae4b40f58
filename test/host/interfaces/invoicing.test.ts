/** invoicing: production's body and its mapping of every answer (docs/production-contract.md#invoicing). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PlatformReply } from '../../../src/host/ports.js';
import { callHost, executionContext } from '../support.js';

const I = 'alga:extension/invoicing';
const G = { grant: ['cap:invoice.manual.create' as const] };
const input = { clientId: 'c-1', items: [{ serviceId: 's-1', quantity: 1.5, description: 'Work', rate: 100 }] };

function backend(reply: PlatformReply) {
  const calls: Record<string, unknown>[] = [];
  return { calls, platformApi: { call: async (_api: string, _id: string, body: Record<string, unknown>) => (calls.push(body), reply) } };
}
const answer = (status: number, body: unknown): PlatformReply => ({ kind: 'answer', status, text: typeof body === 'string' ? body : JSON.stringify(body) });
const run = async (reply: PlatformReply, args: unknown = input) => {
  const b = backend(reply);
  const r = await callHost(executionContext({ ...G, services: b }), I, 'createManualInvoice', args);
  return { r, calls: b.calls };
};

describe('invoicing: refusals before any call', () => {
  test('production\'s denial records; no platform API → base URL not configured', async () => {
    assert.deepEqual(await callHost(executionContext(), I, 'createManualInvoice', input), { ok: { success: false, error: 'Permission denied: cap:invoice.manual.create not granted' } });
    assert.deepEqual(await callHost(executionContext({ ...G, installId: null }), I, 'createManualInvoice', input), { ok: { success: false, error: 'Permission denied: install_id missing' } });
    assert.deepEqual(await callHost(executionContext(G), I, 'createManualInvoice', input), { ok: { success: false, error: 'invoicing base URL not configured' } });
    for (const [reason, error] of [['no-base-url', 'invoicing base URL not configured'], ['no-token', 'runner auth token not configured'], ['transport', 'transport failure']] as const) {
      assert.deepEqual((await run({ kind: 'unreachable', reason, message: 'x' })).r, { ok: { success: false, error } });
    }
  });
});

describe('invoicing: the request and the answer', () => {
  test('the body: operation and fields, absent optionals left out', async () => {
    const { calls } = await run(answer(201, { success: true }), {
      clientId: 'c-1',
      items: [{ serviceId: 's-1', quantity: 2, description: 'd', rate: 5 }, { serviceId: 's-2', quantity: 1, description: 'off', rate: 10, isDiscount: true, discountType: 'percentage', appliesToServiceId: 's-1' }],
      poNumber: 'PO',
    });
    assert.deepEqual(calls, [{
      operation: 'createManualInvoice',
      clientId: 'c-1',
      items: [{ serviceId: 's-1', quantity: 2, description: 'd', rate: 5 }, { serviceId: 's-2', quantity: 1, description: 'off', rate: 10, isDiscount: true, discountType: 'percentage', appliesToServiceId: 's-1' }],
      poNumber: 'PO',
    }]);
  });

  test('201: ids and totals from `invoice` or the top level', async () => {
    const inv = { invoiceId: 'i-1', invoiceNumber: 'INV-000001', status: 'draft', subtotal: 150, tax: 0, total: 150 };
    assert.deepEqual((await run(answer(201, { success: true, invoice: inv }))).r, { ok: { success: true, ...inv, error: undefined, fieldErrors: undefined } });
    assert.deepEqual((await run(answer(200, { success: true, invoice_id: 'i-2', total: 5 }))).r, {
      ok: { success: true, invoiceId: 'i-2', invoiceNumber: undefined, status: undefined, subtotal: undefined, tax: undefined, total: 5, error: undefined, fieldErrors: undefined },
    });
  });

  test('a 2xx: success defaults to false; fieldErrors kept as text or stringified; a non-object is invalid response; bad JSON', async () => {
    const r = (await run(answer(200, { error: 'e', fieldErrors: { clientId: 'x' } }))).r as any;
    assert.deepEqual([r.ok.success, r.ok.error, r.ok.fieldErrors], [false, 'e', '{"clientId":"x"}']);
    assert.equal(((await run(answer(200, { fieldErrors: 'raw' }))).r as any).ok.fieldErrors, 'raw');
    assert.deepEqual((await run(answer(200, [1]))).r, { ok: { success: false, error: 'invalid response' } });
    assert.deepEqual((await run(answer(204, ''))).r, { ok: { success: false, error: 'invalid response' } });
    assert.deepEqual((await run(answer(200, '{nope'))).r, { ok: { success: false, error: 'invalid JSON response' } });
  });

  test('a non-2xx: `http {status}: {raw body}`, field errors only inside the text', async () => {
    const body = { success: false, error: 'Validation error', fieldErrors: { clientId: 'Invalid UUID' } };
    assert.deepEqual((await run(answer(400, body))).r, { ok: { success: false, error: `http 400: ${JSON.stringify(body)}` } });
    assert.deepEqual((await run(answer(404, { error: 'Install not found' }))).r, { ok: { success: false, error: 'http 404: {"error":"Install not found"}' } });
    assert.deepEqual((await run(answer(500, ''))).r, { ok: { success: false, error: 'http 500: ' } });
  });
});
