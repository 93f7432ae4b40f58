/**
 * A guest whose host call is still running when its deadline passes: the call's AbortSignal fires,
 * the (cancellable) backend writes nothing, the caller gets the timeout envelope, and the runner
 * keeps serving.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { SchedulerBackend, SchedulerRequest } from '../../../src/host/ports.js';
import { forEachSandboxPath, json, probeComponent, startSandboxHarness } from './support.js';

forEachSandboxPath(() => {
  // The probe's build (a componentize run of 95 s on a loaded machine, on a clean clone) is set-up,
  // outside the test's time.
  before(async () => {
    await probeComponent();
  });

  /**
   * A scheduler backend whose create waits until released or aborted; it writes only when released.
   * `arm()` starts a new attempt: whether the guest reached the backend, and the abort reason.
   */
  function slowScheduler() {
    const writes: SchedulerRequest[] = [];
    let attempt = { started: false, signalFired: Promise.resolve<unknown>(undefined) };
    let aborted: (reason: unknown) => void = () => {};
    const backend: SchedulerBackend = {
      call: (_installId, request, signal) =>
        new Promise((resolve, reject) => {
          attempt.started = true;
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
    const arm = () => {
      attempt = { started: false, signalFired: new Promise<unknown>((r) => (aborted = r)) };
      return attempt;
    };
    return { backend, writes, arm };
  }

  test('timeout during a host call: the call is aborted, nothing is written, the runner keeps serving', { timeout: 300_000 }, async () => {
    const slow = slowScheduler();
    const h = await startSandboxHarness({ concurrency: 1, services: { scheduler: slow.backend } });
    try {
      // The deadline starts when the task reaches the worker, which first loads the component: load it
      // now, so the deadline is spent on the guest and its host call.
      assert.equal((await h.call('GET', '/counter')).status, 200);
      // The guest must reach its host call before the deadline: on a loaded machine it may not within
      // 1 s, so the deadline doubles until an attempt got there (each attempt is a timeout that wrote
      // nothing either way).
      for (let deadline = 1000; ; deadline *= 2) {
        await h.runner.warm(h.contentHash, 'tenant-1', 'probe');
        const attempt = slow.arm();
        const r = await h.call('POST', '/probe', {
          body: { calls: [{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /echo', cron: '0 3 * * *' }] }] },
          providers: ['cap:scheduler.manage'],
          limits: { timeout_ms: deadline },
        });
        assert.equal(r.status, 500);
        assert.equal(r.error, `execute_failed: timeout: execution exceeded ${deadline} ms and was stopped`);
        assert.deepEqual(slow.writes, []);
        if (!attempt.started) {
          assert.ok(deadline < 64_000, 'the guest never reached the scheduler backend');
          continue;
        }
        assert.ok(attempt.started, 'the guest reached the scheduler backend');
        const reason = await attempt.signalFired; // resolves once the signal fired (the call was aborted)
        assert.match(String((reason as Error).message), /timed out/);
        break;
      }

      await h.runner.warm(h.contentHash, 'tenant-1', 'probe');
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
});
