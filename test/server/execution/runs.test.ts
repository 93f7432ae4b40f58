/** Retries with backoff (each attempt recorded), timeouts, exact no-overlap, history retention. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { envelopeError } from '../../../src/shared/execute-envelope.js';
import { evaluateResponse, INVOCATION_ERRORS, SKIP_REASONS } from '../../../src/server/execution/invoke.js';
import { INVOCATION_QUEUE } from '../../../src/server/execution/queue.js';
import { DeadlineExceededError, latestEndMs, LOAD_ALLOWANCE_MS } from '../../../src/shared/deadline.js';
import { ok, startHarness } from './support.js';

describe('response evaluation (production\'s order and strings)', () => {
  test('status ≥ 400 from the envelope is a failure named by its status', () => {
    assert.deepEqual(evaluateResponse(envelopeError(500, 'boom'), 262_144), { error: 'Runner returned status 500', httpStatus: 500 });
    assert.deepEqual(evaluateResponse({ status: 404, headers: {}, body_b64: null, error: null }, 262_144), { error: 'Runner returned status 404', httpStatus: 404 });
  });
  test('2xx and 3xx succeed; a non-numeric status counts as success (production: NaN)', () => {
    assert.equal(evaluateResponse(ok(), 262_144).error, null);
    assert.equal(evaluateResponse({ status: 'x' as unknown as number, headers: {}, body_b64: null, error: null }, 262_144).error, null);
  });
  test('oversize and empty', () => {
    const big = ok({ s: 'x'.repeat(1000) });
    const n = Buffer.byteLength(JSON.stringify(big));
    assert.equal(evaluateResponse(big, 100).error, INVOCATION_ERRORS.tooLarge(n, 100));
    assert.equal(evaluateResponse(big, 0).error, null); // ≤ 0 disables the check
    assert.equal(evaluateResponse(null, 100).error, 'Runner returned empty body (http 200)');
  });
});

describe('retries', () => {
  test('a failing endpoint is tried 3 times with backoff, each attempt recorded, then recorded as error', async () => {
    const h = await startHarness({ start: '2026-01-05T10:00:30Z', behaviour: () => envelopeError(503, 'unavailable') });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const runs = await h.until(async () => {
        const r = await h.runs(id);
        return r.length === 3 && r.every((x) => x.status === 'error') ? r : null;
      });
      assert.deepEqual(runs.map((r) => [r.attempt, r.max_attempts, r.status, r.http_status, r.error, r.trigger]), [
        [1, 3, 'error', 503, 'Runner returned status 503', 'schedule'],
        [2, 3, 'error', 503, 'Runner returned status 503', 'schedule'],
        [3, 3, 'error', 503, 'Runner returned status 503', 'schedule'],
      ]);
      assert.ok(runs.every((r) => r.occurrence_at.toISOString() === '2026-01-05T10:05:00.000Z'));
      // The delays are the job engine's (Postgres time): the occurrence's job ends failed after its
      // two retries, with exponential backoff from the configured base (1 s here, 5 s by default).
      const job = await h.until(async () => {
        const { rows } = await h.db.pool.query(
          `SELECT state, retry_count, retry_limit, retry_delay, retry_backoff FROM pgboss.job WHERE name = $1 AND data->>'scheduleId' = $2`,
          [INVOCATION_QUEUE, id],
        );
        return rows.length === 1 && rows[0].state === 'failed' ? rows[0] : null;
      });
      assert.deepEqual(job, { state: 'failed', retry_count: 2, retry_limit: 2, retry_delay: 1, retry_backoff: true });
      // One idempotency key for the three attempts of the occurrence; a new request id for each.
      assert.equal(new Set(h.runner.calls.map((c) => c.headers['x-idempotency-key'])).size, 1);
      assert.equal(new Set(h.runner.calls.map((c) => c.headers['x-request-id'])).size, 3);
      const s = (await h.db.pool.query(`SELECT last_run_status, last_error FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
      assert.deepEqual(s, { last_run_status: 'error', last_error: 'Runner returned status 503' });
      // The job is failed (terminal): nothing can fetch it again.
      assert.equal(h.runner.calls.length, 3, 'no 4th attempt');
    } finally {
      await h.stop();
    }
  });

  test('a failure then a success: two attempts, last_run_status success', async () => {
    let n = 0;
    const h = await startHarness({ start: '2026-01-05T10:00:30Z', behaviour: () => (n++ === 0 ? envelopeError(500, 'x') : ok()) });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const runs = await h.until(async () => {
        const r = await h.runs(id);
        return r.length === 2 && r[1].status === 'success' ? r : null;
      });
      assert.deepEqual(runs.map((r) => [r.attempt, r.status]), [[1, 'error'], [2, 'success']]);
      const s = (await h.db.pool.query(`SELECT last_run_status, last_error FROM tenant_extension_schedule WHERE id = $1`, [id])).rows[0];
      assert.deepEqual(s, { last_run_status: 'success', last_error: null });
    } finally {
      await h.stop();
    }
  });

  test('timeout: an endpoint that never answers is aborted and recorded with an abort message', async () => {
    const reasons: unknown[] = [];
    const h = await startHarness({
      start: '2026-01-05T10:00:30Z',
      behaviour: (_c, signal) =>
        new Promise((_, reject) =>
          signal?.addEventListener('abort', () => {
            reasons.push(signal.reason);
            reject(new Error('This operation was aborted'));
          }),
        ),
      options: { timeoutMs: 300, maxAttempts: 1 },
    });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const [run] = await h.until(async () => {
        const r = await h.runs(id);
        return r.length === 1 && r[0].status === 'error' ? r : null;
      });
      assert.equal(run.error, INVOCATION_ERRORS.timeout(300));
      // The endpoint never ends by itself: the one call was aborted, by its deadline passing (not a
      // caller going away), so the run lasted the deadline (its state says so, not the clock).
      assert.equal(reasons.length, 1, 'the one call was aborted');
      assert.ok(reasons[0] instanceof DeadlineExceededError, String(reasons[0]));
      assert.equal((reasons[0] as DeadlineExceededError).budgetMs, 300);
    } finally {
      await h.stop();
    }
  });
});

describe('exactly one success per occurrence', () => {
  test('a retry after a lost completion does not run the endpoint again; a run-now of the same instant still runs', async () => {
    // Postgres restarting between an attempt's commit and the queue's completion leaves the job
    // active: it expires (its attempt's latest end, 13 s, + grace 1 s) into a retry of an occurrence that already ran.
    const h = await startHarness({ start: '2026-01-05T10:00:30Z', options: { timeoutMs: 1000, expireGraceSeconds: 1 } });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      const complete = h.exec.queue.complete;
      const refused: string[] = [];
      h.exec.queue.complete = async (jobId, output) => {
        if (refused.length === 0) {
          refused.push(jobId);
          throw new Error('Connection terminated unexpectedly');
        }
        return complete(jobId, output);
      };
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const job = await h.until(async () => {
        const { rows } = await h.db.pool.query(`SELECT id, state, retry_count FROM pgboss.job WHERE name = $1 AND data->>'scheduleId' = $2`, [INVOCATION_QUEUE, id]);
        return rows.length === 1 && rows[0].state === 'completed' ? rows[0] : null;
      });
      assert.deepEqual(refused, [job.id]);
      assert.equal(job.retry_count, 1, 'the job expired into a retry');
      assert.equal(h.runner.calls.length, 1, 'the endpoint ran once');
      assert.deepEqual((await h.runs(id)).map((r) => [r.attempt, r.status, r.error]), [
        [1, 'success', null],
        [2, 'skipped', SKIP_REASONS.alreadySucceeded],
      ]);

      // Each run-now is a run of its own by design, even at an instant that already ran.
      await h.exec.admin.runNow(id, { at: new Date('2026-01-05T10:05:00Z') });
      const runNow = await h.until(async () => (await h.runs(id)).find((r) => r.trigger === 'run-now' && r.status === 'success'));
      assert.equal(runNow.occurrence_at.toISOString(), '2026-01-05T10:05:00.000Z');
      assert.equal(h.runner.calls.length, 2);
    } finally {
      await h.stop();
    }
  });
});

describe('an attempt stalled past its expiry', () => {
  // The first attempt's end waits on a row lock the test holds (a stall in Postgres, released by the
  // test, not by time) while it still holds the run lock; its job expires (the attempt's latest end, 13 s, + grace 1 s)
  // into a retry that finds the lock held by its own job's earlier attempt.
  async function stalled(first: 'fails' | 'succeeds') {
    let calls = 0;
    const h = await startHarness({
      start: '2026-01-05T10:00:30Z',
      behaviour: () => (calls++ === 0 && first === 'fails' ? envelopeError(503, 'unavailable') : ok()),
      options: { timeoutMs: 1000, expireGraceSeconds: 1, maxAttempts: 4 },
    });
    const blocker = await h.db.pool.connect();
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      const jobOf = async () => (await h.db.pool.query(`SELECT state FROM pgboss.job WHERE name = $1 AND data->>'scheduleId' = $2`, [INVOCATION_QUEUE, id])).rows[0];
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM tenant_extension_schedule WHERE id = $1 FOR NO KEY UPDATE`, [id]);
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const retry = await h.until(async () => (await h.runs(id)).find((r) => r.attempt === 2 && r.status !== 'running'));
      assert.equal(h.runner.calls.length, 1);
      assert.deepEqual([retry.status, retry.error], ['skipped', SKIP_REASONS.earlierAttemptRunning], 'the retry is not taken for an overlap');
      assert.notEqual((await jobOf()).state, 'completed', 'the retry did not complete the job');
      await blocker.query('COMMIT');
      await h.until(async () => (await jobOf()).state === 'completed');
      const runs = await h.runs(id);
      // Every attempt is in the history; the ones the stall turned away say so.
      for (const r of runs.filter((x) => x.status === 'skipped')) assert.ok([SKIP_REASONS.earlierAttemptRunning, SKIP_REASONS.alreadySucceeded].includes(r.error), r.error);
      return { runs, calls: h.runner.calls.length };
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      blocker.release();
      await h.stop();
    }
  }

  test('its retry is not completed as an overlap: when the stalled attempt fails, a later attempt runs', async () => {
    const { runs, calls } = await stalled('fails');
    assert.equal(calls, 2, 'the endpoint ran again after the stalled attempt failed');
    const ran = runs.filter((r) => r.status !== 'skipped');
    assert.deepEqual(ran.map((r) => [r.status, r.error]), [['error', 'Runner returned status 503'], ['success', null]]);
    assert.equal(ran[0].attempt, 1);
  });

  test('when the stalled attempt succeeds, no later attempt runs the endpoint again', async () => {
    const { runs, calls } = await stalled('succeeds');
    assert.equal(calls, 1);
    assert.deepEqual(runs.filter((r) => r.status !== 'skipped').map((r) => [r.attempt, r.status]), [[1, 'success']]);
    assert.equal(runs.at(-1).error, SKIP_REASONS.alreadySucceeded);
  });
});

describe('the job queue\'s expiry', () => {
  test('is derived from the attempt\'s budget: its latest end (budget, load allowance, answer margin) plus the grace', async () => {
    const h = await startHarness({ options: { timeoutMs: 3000, expireGraceSeconds: 1, maxAttempts: 1 } });
    try {
      const { rows } = await h.db.pool.query(`SELECT expire_seconds FROM pgboss.queue WHERE name = $1`, [INVOCATION_QUEUE]);
      assert.deepEqual(rows, [{ expire_seconds: Math.ceil(latestEndMs(3000) / 1000) + 1 }]);
      // A job expires only after the deadline of its attempt can no longer be running.
      assert.ok(rows[0].expire_seconds * 1000 > 3000 + LOAD_ALLOWANCE_MS);
      const id = await h.create({ cron: '*/5 * * * *' });
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      const job = await h.until(async () => (await h.db.pool.query(`SELECT EXTRACT(epoch FROM expire_in)::int AS s FROM pgboss.job WHERE name = $1 AND data->>'scheduleId' = $2`, [INVOCATION_QUEUE, id])).rows[0]);
      assert.equal(job.s, rows[0].expire_seconds);
    } finally {
      await h.stop();
    }
  });
});

describe('no overlap (exact)', () => {
  test('a slow endpoint is never run twice at once; another schedule is not blocked by it', async () => {
    const running = new Map<string, number>();
    let maxSame = 0;
    let bothAtOnce = false;
    let slow = '';
    // The slow endpoint runs until the test has seen the rest happen (no sleeping on the clock).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // The other schedule's call waits until the slow one is running, so they overlap by construction.
    let slowStarted!: () => void;
    const slowRunning = new Promise<void>((r) => (slowStarted = r));
    const h = await startHarness({
      start: '2026-01-05T10:00:30Z',
      behaviour: async (call) => {
        const id = call.body.http.headers?.['x-alga-schedule-id'] ?? '';
        running.set(id, (running.get(id) ?? 0) + 1);
        maxSame = Math.max(maxSame, running.get(id)!);
        if ([...running.values()].filter((v) => v > 0).length >= 2) bothAtOnce = true;
        if (id === slow) {
          slowStarted();
          await released;
        } else await slowRunning;
        running.set(id, running.get(id)! - 1);
        return ok();
      },
    });
    try {
      slow = await h.create({ cron: '*/5 * * * *', name: 'slow' });
      const other = await h.create({ cron: '*/5 * * * *', name: 'other' });
      // An occurrence and two run-nows of the same schedule, and one of another schedule, at once.
      h.clock.set('2026-01-05T10:05:00Z');
      await h.exec.tick();
      await h.until(async () => running.get(slow) === 1);
      await h.exec.admin.runNow(slow);
      await h.exec.admin.runNow(slow);
      await h.until(async () => (await h.runs(other)).some((r) => r.status === 'success'));
      await h.until(async () => (await h.runs(slow)).filter((r) => r.status === 'skipped').length === 2);
      release();
      const runs = await h.until(async () => {
        const r = await h.runs(slow);
        return r.length === 3 && r.every((x) => x.status !== 'running') ? r : null;
      });
      assert.equal(maxSame, 1);
      assert.ok(bothAtOnce, 'the other schedule ran while the slow one was running');
      assert.equal(runs.filter((r) => r.status === 'success').length, 1);
      assert.deepEqual(runs.filter((r) => r.status === 'skipped').map((r) => r.error), ['overlap prevented; skipping', 'overlap prevented; skipping']);
      // Intervals of the runs that executed never intersect.
      const done = runs.filter((r) => r.status === 'success');
      for (let i = 1; i < done.length; i++) assert.ok(done[i].started_at >= done[i - 1].finished_at);
    } finally {
      await h.stop();
    }
  });
});

describe('history retention', () => {
  test('on write, only the newest N runs of a schedule are kept; prune drops runs past the age bound', async () => {
    const h = await startHarness({ start: '2026-01-05T10:00:30Z', options: { history: { keepPerSchedule: 3, keepDays: 1 } } });
    try {
      const id = await h.create({ cron: '*/5 * * * *' });
      for (let i = 1; i <= 5; i++) {
        h.clock.set(new Date(Date.parse('2026-01-05T10:00:00Z') + i * 300_000));
        await h.exec.tick();
        await h.until(async () => (await h.db.pool.query(`SELECT 1 FROM extension_schedule_run WHERE schedule_id = $1 AND status = 'success' AND occurrence_at = $2`, [id, h.clock.now()])).rowCount);
      }
      const runs = await h.runs(id);
      assert.deepEqual(runs.map((r) => r.occurrence_at.toISOString()), ['2026-01-05T10:15:00.000Z', '2026-01-05T10:20:00.000Z', '2026-01-05T10:25:00.000Z']);
      h.clock.set('2026-01-07T00:00:00Z');
      await h.exec.prune();
      assert.deepEqual(await h.runs(id), []);
    } finally {
      await h.stop();
    }
  });
});
