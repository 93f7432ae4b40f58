import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mismatch, resolveEnv } from '../../src/conformance/match.js';

test('matchers: partial objects, exact records, types, alternatives, JSON strings, bytes', () => {
  assert.equal(mismatch({ a: 1 }, { a: 1, b: 2 }), undefined);
  assert.equal(mismatch({ $exact: { a: 1 } }, { a: 1, b: 2 }), '(value): expected exactly the fields [a]; unexpected [b]');
  assert.equal(mismatch({ err: 'not-found' }, { err: 'internal' }), 'err: expected "not-found", observed "internal"');
  assert.equal(mismatch({ x: null }, {}), undefined, 'an absent option is null');
  assert.equal(mismatch({ $type: 'uuid' }, '00000000-0000-4000-8000-000000000000'), undefined);
  assert.ok(mismatch({ $type: 'uuid' }, 'nope'));
  assert.equal(mismatch({ $oneOf: ['a', 'b'] }, 'b'), undefined);
  assert.equal(mismatch({ $unordered: ['a', 'b'] }, ['b', 'a']), undefined);
  assert.equal(mismatch({ $json: { cron: { $regex: '^Invalid' } } }, '{"cron":"Invalid cron"}'), undefined);
  assert.equal(mismatch({ $bytesJson: { ok: true } }, { $bytes: Buffer.from('{"ok":true}').toString('base64') }), undefined);
  assert.equal(mismatch([1, 2], [1]), '(value): expected [1,2], observed [1]');
  assert.deepEqual(resolveEnv({ a: { $env: 't' }, b: [{ $env: 't' }] }, { t: 'x' }), { a: 'x', b: ['x'] });
  assert.throws(() => resolveEnv({ $env: 'nope' }, {}), /unknown \$env/);
});
