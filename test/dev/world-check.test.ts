/** A component built against another WIT: the imports our world lacks are named. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { worldMismatches } from '../../src/dev/world-check.js';

test('names imported functions and interfaces this runner\'s world does not have', () => {
  const glue = [
    "const { getContext } = imports['alga:extension/context'];",
    "const { delete: _delete, get: get$1, listEntries, put, compareAndSwap } = imports['alga:extension/storage'];",
    "const { sendMail } = imports['alga:extension/mail'];",
    "const { now } = imports['wasi:clocks/wall-clock'];",
  ].join('\n');
  assert.deepEqual(worldMismatches(glue), ['alga:extension/storage#compareAndSwap', 'alga:extension/mail']);
  assert.deepEqual(worldMismatches(glue.split('\n')[0]!), []);
});
