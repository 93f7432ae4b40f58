/**
 * A guest whose host call is still running when its deadline passes: the call's AbortSignal fires,
 * the (cancellable) backend writes nothing, the caller gets the timeout envelope, and the runner
 * keeps serving.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerBackend, SchedulerRequest } from '../../../src/host/ports.js';
import { json, startSandboxHarness } from './support.js';

/** A scheduler backend whose create waits until released or aborted; it writes only when released. */
function slowScheduler() {
  const writes: SchedulerRequest[] = [];
  let started = false;
  let aborted!: (reason: unknown) => void;
  const signalFired = new Promise<unknown>((r) => (aborted = r));
  const backend: SchedulerBackend = {
    call: (_installId, request, signal) =>
      new Promise((resolve, reject) => {
        started = true;
        const release = setTimeout(() => {
          writes.push(request);
          resolve({ status: 201, body: { success: true, scheduleId: 'never' } });
        }, 60_000);
        signal?.addEventListener('abort', () => {
          clearTimeout(release);
          aborted(signal.reason);
          reject(signal.reason);
        });
      }),
  };
  return { backend, writes, signalFired, wasCalled: () => started };
}

test('timeout during a host call: the call is aborted, nothing is written, the runner keeps serving', { timeout: 180_000 }, async () => {
  const slow = slowScheduler();
  const h = await startSandboxHarness({ concurrency: 1, services: { scheduler: slow.backend } });
  try {
    // The deadline starts when the task reaches the worker, which first loads the component: load it
    // now, so the 1 s deadline is spent waiting on the host call even on a loaded machine.
    assert.equal((await h.call('GET', '/counter')).status, 200);
    const pending = h.call('POST', '/probe', {
      body: { calls: [{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /echo', cron: '0 3 * * *' }] }] },
      providers: ['cap:scheduler.manage'],
      limits: { timeout_ms: 1000 },
    });
    const r = await pending;
    assert.ok(slow.wasCalled(), 'the guest reached the scheduler backend');
    assert.equal(r.status, 500);
    assert.equal(r.error, 'execute_failed: timeout: execution exceeded 1000 ms and was stopped');
    const reason = await slow.signalFired; // resolves once the signal fired (the call was aborted)
    assert.match(String((reason as Error).message), /timed out/);
    assert.deepEqual(slow.writes, []);

    const next = await h.call('GET', '/counter');
    assert.equal(next.status, 200, next.error ?? undefined);
    assert.deepEqual(json(next), { counter: 1 });
  } finally {
    await h.runner.close();
  }
});

test('a host call whose backend rejects: the guest gets the WIT internal error, the execution completes', async () => {
  const backend: SchedulerBackend = { call: async () => Promise.reject(new Error('connection reset')) };
  const h = await startSandboxHarness({ concurrency: 1, services: { scheduler: backend } });
  try {
    const r = await h.call('POST', '/probe', { body: { calls: [{ fn: 'scheduler.list-schedules' }] }, providers: ['cap:scheduler.manage'] });
    assert.equal(r.status, 200, r.error ?? undefined);
    assert.deepEqual(json(r).results, [{ err: 'internal' }]);
  } finally {
    await h.runner.close();
  }
});
