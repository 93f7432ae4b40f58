import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callHost, executionContext } from '../support.js';

test('context.get-context: answers the execution\'s context record', async () => {
  const ctx = executionContext();
  assert.deepEqual(await callHost(ctx, 'alga:extension/context', 'getContext'), { ok: ctx.context });
});

test('context.get-context: without cap:context.read it traps, as production panics', async () => {
  const ctx = executionContext();
  (ctx.granted as Set<string>).delete('cap:context.read');
  assert.deepEqual(await callHost(ctx, 'alga:extension/context', 'getContext'), { trap: 'capability_not_granted: cap:context.read' });
});
