import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callHost, executionContext } from '../support.js';

const S = 'alga:extension/secrets';

test('secrets.get: denied without cap:secrets.get; list-keys is [] instead', async () => {
  const ctx = executionContext({ secrets: { a: '1' } });
  assert.deepEqual(await callHost(ctx, S, 'get', 'a'), { err: 'denied' });
  assert.deepEqual(await callHost(ctx, S, 'listKeys'), { ok: [] });
});

test('secrets.get: missing without an envelope, or for an absent key; the value otherwise', async () => {
  assert.deepEqual(await callHost(executionContext({ grant: ['cap:secrets.get'] }), S, 'get', 'a'), { err: 'missing' });
  const ctx = executionContext({ grant: ['cap:secrets.get'], secrets: { b: '2', a: '1' } });
  assert.deepEqual(await callHost(ctx, S, 'get', 'zz'), { err: 'missing' });
  assert.deepEqual(await callHost(ctx, S, 'get', 'a'), { ok: '1' });
  assert.deepEqual(await callHost(ctx, S, 'listKeys'), { ok: ['a', 'b'] });
});
