/** dev's kept gateway requests (for replay): bounded by count and by body bytes, oldest out first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestLog, type GatewayRequestRecord } from '../../src/dev/request-log.js';

const req = (requestId: string, bytes: number): GatewayRequestRecord => ({
  requestId, tenant: 'local', extension: 'x', method: 'POST', path: '/p', search: '', headers: {}, body: bytes ? Buffer.alloc(bytes) : undefined,
});

test('the oldest go when the count is over', () => {
  const log = new RequestLog(3, 1000, 1000);
  for (const id of ['a', 'b', 'c', 'd']) log.record(req(id, 1));
  assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => log.has(id)), [false, true, true, true]);
});

test('the oldest go when the bytes are over; a body over the per-request cap is not kept', () => {
  const log = new RequestLog(100, 250, 100);
  log.record(req('a', 100));
  log.record(req('b', 100));
  log.record(req('c', 100)); // 300 > 250: a goes
  assert.deepEqual(['a', 'b', 'c'].map((id) => log.has(id)), [false, true, true]);
  log.record(req('big', 101));
  assert.equal(log.has('big'), false);
  assert.equal(log.has('b'), true, 'a refused body evicts nothing');
  // The same id again replaces its record (bytes counted once): two more fit after b and c.
  log.record(req('c', 10));
  log.record(req('d', 100));
  assert.deepEqual(['b', 'c', 'd'].map((id) => log.has(id)), [true, true, true]);
});
