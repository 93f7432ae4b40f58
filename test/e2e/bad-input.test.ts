/**
 * Bad input is a client error, never a 500: NUL bytes (Postgres refuses them in text) and malformed
 * escapes in extension names, paths, queries and bodies, through the routes a client uses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const TOKEN = 'a-runner-token-long-enough-for-the-tests';
let tp: TestPlatform;
let installId: string;

before(async () => {
  tp = await startTestPlatform({ runnerToken: TOKEN });
  installId = (await tp.install('scheduler-probe')).installId;
});
after(async () => {
  await tp?.stop();
});

async function send(method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`${tp.url}${path}`, {
    method: method as 'GET',
    headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
    body: o.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

const SCHEDULE = '00000000-0000-4000-8000-000000000000';
const runner = { 'x-runner-auth': TOKEN };

describe('NUL bytes and bad escapes answer 4xx, never 500', () => {
  type Case = [string, string, string, { headers?: Record<string, string>; body?: string }?];
  const cases = (installId: string): Case[] => [
    ['gateway: NUL extension name', 'GET', '/api/ext/%00/counter'],
    ['gateway: NUL inside an extension name', 'GET', '/api/ext/com.alga%00x/counter'],
    ['gateway: malformed escape in the extension name', 'GET', '/api/ext/%E0%A4%A/counter'],
    ['gateway: NUL in the tenant-less path of a real extension', 'GET', '/api/ext/com.alga.test.scheduler-probe/%00'],
    ['admin runs: ?tenant=%00', 'GET', `/api/admin/extensions/schedules/${SCHEDULE}/runs?tenant=%00`],
    ['admin next: ?tenant=%00', 'GET', `/api/admin/extensions/schedules/${SCHEDULE}/next?tenant=%00`],
    ['admin run-now: ?tenant=%00', 'POST', `/api/admin/extensions/schedules/${SCHEDULE}/run-now?tenant=%00`],
    ['admin invoices: ?tenant=%00', 'GET', '/api/admin/invoices?tenant=%00'],
    ['extension update: NUL registry id', 'POST', '/api/v1/extensions/update', { body: JSON.stringify({ registryId: 'a\u0000b', version: '1.0.0' }) }],
    ['extension disable: NUL registry id', 'POST', '/api/v1/extensions/disable', { body: JSON.stringify({ registryId: '\u0000' }) }],
    ['internal API: NUL install id', 'POST', '/api/internal/ext-scheduler/install/%00', { headers: runner, body: '{"operation":"list"}' }],
    ['internal API: NUL in a schedule name', 'POST', `/api/internal/ext-scheduler/install/${installId}`, {
      headers: runner,
      body: JSON.stringify({ operation: 'create', endpoint: 'POST /probe', cron: '0 * * * *', name: 'a\u0000b' }),
    }],
    ['internal API: NUL in a schedule id', 'POST', `/api/internal/ext-scheduler/install/${installId}`, {
      headers: runner,
      body: JSON.stringify({ operation: 'get', scheduleId: '\u0000' }),
    }],
    ['storage route: NUL install id', 'POST', '/api/internal/ext-storage/install/%00', { headers: runner, body: '{"operation":"get","namespace":"n","key":"k"}' }],
    ['storage route: NUL in a key', 'POST', `/api/internal/ext-storage/install/${installId}`, { headers: runner, body: '{"operation":"get","namespace":"n","key":"a\\u0000b"}' }],
    ['storage route: NUL in a namespace', 'POST', `/api/internal/ext-storage/install/${installId}`, { headers: runner, body: '{"operation":"list","namespace":"\\u0000"}' }],
  ];
  for (const [name] of cases('')) {
    test(name, async () => {
      // The cases are built again once before() knows the install id.
      const [, method, path, o] = cases(installId).find((c) => c[0] === name)!;
      const r = await send(method, path, o);
      assert.ok(r.status >= 400 && r.status < 500, `${name}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      assert.doesNotMatch(r.text, /\n\s+at |internal_error|INTERNAL_ERROR/);
    });
  }

  test('the platform still answers afterwards', async () => {
    const r = await tp.call('GET', 'com.alga.test.scheduler-probe', '/counter');
    assert.equal(r.status, 200, r.text);
  });
});
