import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { replyToWit, sortedJson, statusToSchedulerError } from '../../../src/host/interfaces/scheduler.js';
import type { SchedulerRequest } from '../../../src/host/ports.js';
import { callHost, executionContext } from '../support.js';

function recordingBackend(reply = { status: 200, body: { success: true } as unknown }) {
  const calls: { installId: string; request: SchedulerRequest }[] = [];
  return { calls, backend: { call: async (installId: string, request: SchedulerRequest) => (calls.push({ installId, request }), reply) } };
}

describe('scheduler: capability and install gating (docs/production-contract.md#capabilities)', () => {
  test('list/get/get-endpoints without the capability → denied; nothing is sent', async () => {
    const { calls, backend } = recordingBackend();
    const ctx = executionContext({ services: { scheduler: backend } });
    assert.deepEqual(await callHost(ctx, 'alga:extension/scheduler', 'listSchedules'), { err: 'denied' });
    assert.deepEqual(await callHost(ctx, 'alga:extension/scheduler', 'getSchedule', 'x'), { err: 'denied' });
    assert.deepEqual(await callHost(ctx, 'alga:extension/scheduler', 'getEndpoints'), { err: 'denied' });
    assert.equal(calls.length, 0);
  });

  test('create/update/delete without the capability → success:false with production\'s message', async () => {
    const ctx = executionContext();
    for (const [fn, args] of [['createSchedule', [{ endpoint: '/a', cron: '0 * * * *' }]], ['updateSchedule', ['x', {}]], ['deleteSchedule', ['x']]] as const) {
      const out = (await callHost(ctx, 'alga:extension/scheduler', fn, ...args)) as { ok: { success: boolean; error: string } };
      assert.deepEqual(out.ok, { success: false, error: 'Permission denied: cap:scheduler.manage not granted' });
    }
  });

  test('no install id → denied for list, "Install ID missing" for create', async () => {
    const ctx = executionContext({ grant: ['cap:scheduler.manage'], installId: null });
    assert.deepEqual(await callHost(ctx, 'alga:extension/scheduler', 'listSchedules'), { err: 'denied' });
    const out = (await callHost(ctx, 'alga:extension/scheduler', 'createSchedule', { endpoint: '/a', cron: '0 * * * *' })) as { ok: { error: string } };
    assert.equal(out.ok.error, 'Install ID missing');
  });
});

describe('scheduler: requests sent', () => {
  test('update sends only the fields the guest set (differences.md#partial-update: production cleared name and payload)', async () => {
    const { calls, backend } = recordingBackend();
    const ctx = executionContext({ grant: ['cap:scheduler.manage'], services: { scheduler: backend } });
    await callHost(ctx, 'alga:extension/scheduler', 'updateSchedule', 'id-1', { cron: '0 9 * * *' });
    assert.deepEqual(calls[0]!.request, { operation: 'update', scheduleId: 'id-1', cron: '0 9 * * *' });
    assert.ok(!('name' in calls[0]!.request) && !('payload' in calls[0]!.request));
  });

  test('update: an empty payload string clears (sends null), "null" clears, a name of "" is sent to clear', async () => {
    const { calls, backend } = recordingBackend();
    const ctx = executionContext({ grant: ['cap:scheduler.manage'], services: { scheduler: backend } });
    await callHost(ctx, 'alga:extension/scheduler', 'updateSchedule', 'id-1', { payload: '' });
    await callHost(ctx, 'alga:extension/scheduler', 'updateSchedule', 'id-1', { payload: 'null', name: '' });
    assert.deepEqual(calls.map((c) => c.request), [
      { operation: 'update', scheduleId: 'id-1', payload: null },
      { operation: 'update', scheduleId: 'id-1', payload: null, name: '' },
    ]);
  });

  test('create: a payload that is not JSON is answered locally with production\'s field error', async () => {
    const { calls, backend } = recordingBackend();
    const ctx = executionContext({ grant: ['cap:scheduler.manage'], services: { scheduler: backend } });
    const out = (await callHost(ctx, 'alga:extension/scheduler', 'createSchedule', { endpoint: '/a', cron: '0 * * * *', payload: '{nope' })) as unknown as { ok: Record<string, unknown> };
    assert.equal(calls.length, 0);
    assert.equal(out.ok.success, false);
    assert.equal(out.ok.error, 'Payload must be valid JSON object or array');
    assert.deepEqual(JSON.parse(out.ok.fieldErrors as string), { payload: 'Payload must be valid JSON object or array' });
  });

  test('create forwards the parsed payload and only the optional keys present', async () => {
    const { calls, backend } = recordingBackend({ status: 201, body: { success: true, scheduleId: 's-1' } });
    const ctx = executionContext({ grant: ['cap:scheduler.manage'], services: { scheduler: backend } });
    const out = (await callHost(ctx, 'alga:extension/scheduler', 'createSchedule', { endpoint: 'POST /sync', cron: '*/5 * * * *', payload: '{"b":1,"a":[2]}' })) as unknown as { ok: Record<string, unknown> };
    assert.deepEqual(calls[0]!.request, { operation: 'create', endpoint: 'POST /sync', cron: '*/5 * * * *', payload: { b: 1, a: [2] } });
    assert.equal(out.ok.success, true);
    assert.equal(out.ok.scheduleId, 's-1');
  });
});

describe('scheduler: replyToWit', () => {
  test('non-2xx for list/get/get-endpoints maps as production (401/403 denied, 404 not-found, 400 validation-failed, 429 quota-exceeded, else internal)', () => {
    const cases: [number, string][] = [[401, 'denied'], [403, 'denied'], [404, 'not-found'], [400, 'validation-failed'], [429, 'quota-exceeded'], [500, 'internal'], [501, 'internal'], [502, 'internal']];
    for (const [status, expected] of cases) {
      assert.equal(statusToSchedulerError(status), expected);
      assert.deepEqual(replyToWit('list', { status, body: { error: 'x' } }), { err: expected });
    }
  });

  test('a 400 create keeps the server\'s error and field errors (differences.md#field-errors: production lost them)', () => {
    const out = replyToWit('create', { status: 400, body: { success: false, error: 'Cron too frequent (minimum interval is 5 minutes)', fieldErrors: { cron: 'Cron too frequent (minimum interval is 5 minutes)' } } }) as unknown as { ok: Record<string, unknown> };
    assert.equal(out.ok.success, false);
    assert.equal(out.ok.error, 'Cron too frequent (minimum interval is 5 minutes)');
    assert.deepEqual(JSON.parse(out.ok.fieldErrors as string), { cron: 'Cron too frequent (minimum interval is 5 minutes)' });
  });

  test('route refusals reach create/update/delete as their text, never a debug rendering (differences.md#error-categories)', () => {
    const rl = replyToWit('update', { status: 429, body: { error: 'Too many requests, please try again later', code: 'RATE_LIMITED', details: null } }) as unknown as { ok: Record<string, unknown> };
    assert.deepEqual(rl.ok, { success: false, error: 'Too many requests, please try again later' });
    const nf = replyToWit('delete', { status: 404, body: { error: 'Install not found', code: 'NOT_FOUND', details: null } }) as unknown as { ok: Record<string, unknown> };
    assert.deepEqual(nf.ok, { success: false, error: 'Install not found' });
    const bad = replyToWit('update', { status: 400, body: { error: 'Validation error', details: { formErrors: [], fieldErrors: { scheduleId: ['Invalid UUID'] } } } }) as unknown as { ok: Record<string, unknown> };
    assert.equal(bad.ok.success, false);
    assert.match(bad.ok.error as string, /^Validation error: scheduleId: Invalid UUID$/);
    assert.deepEqual(JSON.parse(bad.ok.fieldErrors as string), { scheduleId: 'Invalid UUID' });
    for (const r of [rl, nf, bad]) assert.doesNotMatch(String(r.ok.error), /SchedulerError|code:/);
  });

  test('list drops malformed items and accepts snake_case; payload objects are serialized with sorted keys', () => {
    const out = replyToWit('list', {
      status: 200,
      body: {
        schedules: [
          { id: 'a', endpoint_path: '/x', endpoint_method: 'GET', cron: '0 * * * *', timezone: 'UTC', enabled: true, payload: { z: 1, a: { d: 1, c: 2 } }, last_run_at: '2026-01-01T00:00:00.000Z' },
          { id: 'b', endpointPath: '/x', endpointMethod: 'GET', cron: '0 * * * *', timezone: 'UTC' },
        ],
      },
    }) as unknown as { ok: Record<string, unknown>[] };
    assert.equal(out.ok.length, 1);
    assert.equal(out.ok[0]!.payload, '{"a":{"c":2,"d":1},"z":1}');
    assert.equal(out.ok[0]!.lastRunAt, '2026-01-01T00:00:00.000Z');
    assert.equal(sortedJson([{ b: 1, a: 2 }]), '[{"a":2,"b":1}]');
  });

  test('get of nothing is none; a transport failure is internal', () => {
    assert.deepEqual(replyToWit('get', { status: 200, body: { schedule: null } }), { ok: undefined });
    assert.deepEqual(replyToWit('getEndpoints', { status: 502, body: null }), { err: 'internal' });
  });
});
