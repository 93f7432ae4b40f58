/** Through the gateway: a client that goes away stops its looping guest and frees the sandbox. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { loadConfig } from '../../src/config.js';
import type { Runner } from '../../src/host/runner.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
const EXT = 'com.alga.test.scheduler-probe';

before(async () => {
  // A gateway deadline far away: only the client's going away can stop the guest in this test.
  tp = await startTestPlatform({ config: loadConfig({ ...process.env, EXT_GATEWAY_TIMEOUT_MS: '600000' }) });
  await tp.install('scheduler-probe');
});
after(async () => {
  await tp?.stop();
});

test('a gateway client that closes stops its looping guest; the sandbox is free and the next call runs', { timeout: 120_000 }, async () => {
  const runner = tp.platform.runner as Runner;
  const client = new AbortController();
  const pending = request(`${tp.url}/api/ext/${EXT}/loop`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, signal: client.signal }).catch((e: Error) => e);
  while (runner.stats().busy === 0) await new Promise((r) => setTimeout(r, 20));
  client.abort();
  assert.ok((await pending) instanceof Error);
  while (runner.stats().busy > 0) await new Promise((r) => setTimeout(r, 20));
  const r = await tp.call('GET', EXT, '/counter');
  assert.equal(r.status, 200, r.text);
});
