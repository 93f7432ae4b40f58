/**
 * Idempotency through the gateway: the client's x-idempotency-key is passed on, a reused
 * x-request-id never makes one call answer for another (docs/differences.md#idempotency).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
const EXT = 'com.alga.test.scheduler-probe';

before(async () => {
  tp = await startTestPlatform();
  await tp.install('scheduler-probe');
});
after(async () => {
  await tp?.stop();
});

async function echo(body: string, headers: Record<string, string>) {
  const res = await request(`${tp.url}/api/ext/${EXT}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: JSON.parse(text) };
}

test('a reused x-request-id on different calls runs each of them', async () => {
  const rid = { 'x-request-id': `rid-${Date.now()}` };
  const a = await echo('first call', rid);
  const b = await echo('second call', rid);
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  assert.equal(a.json.body, 'first call');
  assert.equal(b.json.body, 'second call', 'not the first call\'s answer');
});

test('the client\'s x-idempotency-key is passed on: the same call replays, another body is refused', async () => {
  const key = { 'x-idempotency-key': `idem-${Date.now()}` };
  const a = await echo('pay once', key);
  const again = await echo('pay once', key);
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(again.json, a.json, 'replayed: the same request id inside');
  const other = await echo('pay twice', key);
  assert.equal(other.status, 422, other.text);
  assert.match(other.json.message, /idempotency_key_reused/);
  const fresh = await echo('pay once', {});
  assert.notEqual(fresh.json.context.requestId, a.json.context.requestId, 'without a key every call runs');
});
