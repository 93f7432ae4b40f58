/**
 * The job lock beside the run lock (store.ts): an occurrence that finds its schedule running is an
 * overlap, even while an unrelated job whose id has the same 32-bit hash is running elsewhere (with
 * a 32-bit key that job's lock read as an earlier attempt of its own, and the occurrence was failed
 * back to the queue instead of skipped).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInvocation, SKIP_REASONS, type InvokeDeps } from '../../../src/server/execution/invoke.js';
import type { InvocationJob } from '../../../src/server/execution/queue.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { ok, startHarness } from './support.js';

test('an overlap is skipped while an unrelated job whose id collides under a 32-bit hash is running', async () => {
  // Release of the endpoint calls the test holds, by schedule.
  const held = new Map<string, () => void>();
  const started = new Map<string, () => void>();
  const running = new Map<string, Promise<void>>();
  const h = await startHarness({
    behaviour: async (call) => {
      const id = call.body.http.headers?.['x-alga-schedule-id'] ?? '';
      started.get(id)?.();
      await new Promise<void>((r) => held.set(id, r));
      return ok();
    },
  });
  try {
    // Two job ids (UUIDs, as pg-boss's) with the same hashtext(): found among fixed candidates.
    const { rows } = await h.db.pool.query<{ a: string; b: string }>(
      `SELECT min(u) AS a, max(u) AS b FROM (SELECT md5(i::text)::uuid::text AS u FROM generate_series(1, 400000) i) s
        GROUP BY hashtext(u) HAVING count(*) > 1 ORDER BY 1 LIMIT 1`,
    );
    const [a, b] = [rows[0]!.a, rows[0]!.b];
    assert.notEqual(a, b);
    const first = await h.create({ cron: '0 3 * * *', name: 'first' });
    const second = await h.create({ cron: '0 4 * * *', name: 'second' });
    const deps: InvokeDeps = { pool: h.db.pool, lockPool: h.db.pool, runner: h.runner, clock: h.clock, logger: silentLogger, timeoutMs: 600_000, maxResponseBytes: 262_144, keepRunsPerSchedule: 100 };
    const job = (id: string, scheduleId: string): InvocationJob => ({
      id,
      data: { tenantId: h.ctx.tenantId, installId: h.ctx.installId, scheduleId, trigger: 'schedule', occurrence: '2026-01-05T10:00:00.000Z' },
      attempt: 1,
      maxAttempts: 3,
    });
    const start = (j: InvocationJob) => {
      const reached = new Promise<void>((r) => started.set(j.data.scheduleId, r));
      const outcome = runInvocation(deps, j);
      running.set(j.data.scheduleId, outcome.then(() => {}));
      return { reached, outcome };
    };
    // Job a runs on the first schedule; another occurrence runs on the second (both held mid-call).
    const ofA = start(job(a, first));
    await ofA.reached;
    const other = start(job('00000000-0000-4000-8000-000000000001', second));
    await other.reached;
    // Job b, another occurrence of the second schedule: an overlap, whatever job a's id hashes to.
    const ofB = await runInvocation(deps, job(b, second));
    assert.deepEqual(ofB, { status: 'skipped', reason: SKIP_REASONS.overlap });
    for (const release of held.values()) release();
    assert.equal((await ofA.outcome).status, 'success');
    assert.equal((await other.outcome).status, 'success');
  } finally {
    for (const release of held.values()) release();
    await Promise.all(running.values());
    await h.stop();
  }
});
