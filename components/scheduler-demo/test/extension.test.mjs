// The sample's tests, as an extension author writes them: node:test and alga-node-runner/testing
// (the real runner, sandbox, PostgreSQL and schedule execution, on a manual clock).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestRuntime } from 'alga-node-runner/testing';

let rt;
before(async () => {
  rt = await createTestRuntime({
    extension: fileURLToPath(new URL('..', import.meta.url)),
    clock: { start: '2030-06-03T08:50:00-04:00' }, // 08:50 in New York (EDT)
  });
});
after(() => rt?.close());

test('POST /api/setup creates the heartbeat and the daily status check', async () => {
  const res = await rt.request('POST', '/api/setup', { body: {} });
  assert.equal(res.status, 200, await res.text());
  const schedules = await rt.schedules();
  assert.deepEqual(schedules.map((s) => s.name).sort(), ['Daily Status Check', 'Heartbeat Check']);
});

test('from 08:50 to 09:00 New York: the daily status check runs once, the heartbeat twice', async () => {
  const runs = await rt.advanceClock('2030-06-03T09:00:00-04:00');
  const of = (name) => runs.filter((r) => r.name === name);
  assert.deepEqual(of('Daily Status Check').map((r) => r.occurrence), ['2030-06-03T13:00:00.000Z']);
  assert.deepEqual(of('Heartbeat Check').map((r) => r.occurrence), ['2030-06-03T12:55:00.000Z', '2030-06-03T13:00:00.000Z']);
  for (const r of runs) assert.equal(r.status, 'success', r.error ?? '');
  assert.equal(JSON.parse(of('Heartbeat Check')[0].response).event, 'heartbeat');
});

test('a second POST /api/setup creates nothing', async () => {
  const res = await rt.request('POST', '/api/setup', { body: {} });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.created, []);
  assert.equal((await rt.schedules()).length, 2);
});
