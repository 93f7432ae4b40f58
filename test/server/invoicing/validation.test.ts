/** Production's manual-invoice validation: rules, field names and messages (docs/production-contract.md#invoicing). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeCharges } from '../../../src/server/invoicing/manual-invoices.js';
import { validateManualInvoice } from '../../../src/server/invoicing/validation.js';

const C = '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e01';
const S = '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c01';
const item = (o: Record<string, unknown> = {}) => ({ serviceId: S, quantity: 1, description: 'Work', rate: 100, ...o });
const errors = (raw: unknown) => {
  const r = validateManualInvoice(raw);
  assert.equal(r.ok, false);
  return r.ok ? {} : { error: r.error, ...r.fieldErrors };
};

test('a valid invoice passes, trimmed; absent optionals stay absent; poNumber "" is absent, null stays null', () => {
  const r = validateManualInvoice({ clientId: ` ${C} `, items: [item({ description: '  Work  ' })], invoiceDate: '2026-12-01', poNumber: '' });
  assert.deepEqual(r, { ok: true, value: { clientId: C, items: [{ serviceId: S, quantity: 1, description: 'Work', rate: 100, isDiscount: undefined, discountType: undefined, appliesToItemId: undefined, appliesToServiceId: undefined }], invoiceDate: '2026-12-01', dueDate: undefined, poNumber: undefined } });
  const n = validateManualInvoice({ clientId: C, items: [item()], poNumber: null });
  assert.equal(n.ok && n.value.poNumber, null);
});

test('not an object → Invalid request body', () => {
  for (const raw of [null, [], 'x', 3]) assert.deepEqual(validateManualInvoice(raw), { ok: false, error: 'Invalid request body', fieldErrors: { body: 'Expected JSON object' } });
});

test('ids: Required, Invalid UUID (RFC 4122 versions 1–5 only)', () => {
  assert.deepEqual(errors({ items: [item()] }), { error: 'Validation error', clientId: 'Required' });
  assert.deepEqual(errors({ clientId: 'abc', items: [item()] }), { error: 'Validation error', clientId: 'Invalid UUID' });
  assert.deepEqual(errors({ clientId: '00000000-0000-0000-0000-000000000000', items: [item()] }), { error: 'Validation error', clientId: 'Invalid UUID' });
  assert.deepEqual(errors({ clientId: C, items: [item({ serviceId: '' })] }), { error: 'Validation error', 'items[0].serviceId': 'Required' });
});

test('items: at least one; each field at its edge', () => {
  assert.deepEqual(errors({ clientId: C, items: [] }), { error: 'Validation error', items: 'Must include at least one item' });
  assert.deepEqual(errors({ clientId: C }), { error: 'Validation error', items: 'Must include at least one item' });
  assert.deepEqual(errors({ clientId: C, items: ['x'] }), { error: 'Validation error', 'items[0]': 'Invalid item' });
  assert.equal(validateManualInvoice({ clientId: C, items: [item({ description: 'd'.repeat(500) })] }).ok, true);
  assert.deepEqual(errors({ clientId: C, items: [item({ description: 'd'.repeat(501) })] }), { error: 'Validation error', 'items[0].description': 'Too long' });
  assert.deepEqual(errors({ clientId: C, items: [item({ description: '  ' })] }), { error: 'Validation error', 'items[0].description': 'Required' });
  assert.deepEqual(errors({ clientId: C, items: [item({ quantity: 0 })] }), { error: 'Validation error', 'items[0].quantity': 'Must be > 0' });
  assert.deepEqual(errors({ clientId: C, items: [item({ rate: -0.01 })] }), { error: 'Validation error', 'items[0].rate': 'Must be >= 0' });
  assert.equal(validateManualInvoice({ clientId: C, items: [item({ rate: 0 })] }).ok, true);
});

test('discounts: type required iff isDiscount, percentage 0–100, appliesTo* only on a discount and only one', () => {
  assert.deepEqual(errors({ clientId: C, items: [item({ isDiscount: true })] }), { error: 'Validation error', 'items[0].discountType': 'Required when isDiscount=true' });
  assert.deepEqual(errors({ clientId: C, items: [item({ discountType: 'fixed' })] }), { error: 'Validation error', 'items[0].discountType': 'Not allowed unless isDiscount=true' });
  assert.equal(validateManualInvoice({ clientId: C, items: [item({ isDiscount: true, discountType: 'percentage', rate: 100 })] }).ok, true);
  assert.deepEqual(errors({ clientId: C, items: [item({ isDiscount: true, discountType: 'percentage', rate: 101 })] }), { error: 'Validation error', 'items[0].rate': 'Percentage discount rate must be between 0 and 100' });
  assert.deepEqual(errors({ clientId: C, items: [item({ appliesToServiceId: S })] }), { error: 'Validation error', 'items[0]': 'appliesTo* fields require isDiscount=true' });
  assert.deepEqual(errors({ clientId: C, items: [item({ isDiscount: true, discountType: 'fixed', appliesToServiceId: S, appliesToItemId: S })] }), { error: 'Validation error', 'items[0]': 'Provide only one of appliesToItemId or appliesToServiceId' });
});

test('dates YYYY-MM-DD; poNumber ≤ 128', () => {
  assert.deepEqual(errors({ clientId: C, items: [item()], invoiceDate: '12/01/2026', dueDate: '2026-1-1' }), { error: 'Validation error', invoiceDate: 'Invalid date (expected YYYY-MM-DD)', dueDate: 'Invalid date (expected YYYY-MM-DD)' });
  assert.equal(validateManualInvoice({ clientId: C, items: [item()], poNumber: 'p'.repeat(128) }).ok, true);
  assert.deepEqual(errors({ clientId: C, items: [item()], poNumber: 'p'.repeat(129) }), { error: 'Validation error', poNumber: 'Too long' });
});

test('charges: quantity × rounded rate; a fixed discount subtracts; a percentage discounts its base', () => {
  const v = validateManualInvoice({
    clientId: C,
    items: [
      item({ quantity: 2, rate: 99.6 }), // 2 × 100
      item({ serviceId: '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c02', quantity: 1, rate: 300 }),
      item({ isDiscount: true, discountType: 'percentage', rate: 10 }), // 10 % of 500
      item({ isDiscount: true, discountType: 'percentage', rate: 50, appliesToServiceId: S }), // 50 % of 200
      item({ isDiscount: true, discountType: 'fixed', rate: 25 }),
    ],
  });
  assert.ok(v.ok);
  assert.deepEqual(computeCharges(v.value).map((c) => c.netAmount), [200, 300, -50, -100, -25]);
});
