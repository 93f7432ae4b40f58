/**
 * The runner honours its caller's one deadline (src/shared/deadline.ts): a looping guest is stopped
 * at it with the timeout answer (not as a caller that went away), the caller going away is said
 * once, and our own load (here the component's bytes arriving late) is not the guest's time.
 * Asserted on answers, log lines and the pool's state, never on elapsed time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRunner } from '../../../src/host/runner.js';
import { sha256Hex } from '../../../src/shared/content-hash.js';
import { Deadline } from '../../../src/shared/deadline.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { forEachSandboxPath, json, probeComponent, startSandboxHarness, type SandboxHarness } from './support.js';

forEachSandboxPath((sandboxPath) => {
  let h: SandboxHarness;
  before(async () => {
    h = await startSandboxHarness({ concurrency: 1 });
    await h.runner.warm(h.contentHash, 'tenant-1', 'probe');
  });
  after(async () => h?.runner.close());

  const linesOf = (requestFrom: number, msg: string) => h.logs.slice(requestFrom).filter((l) => l.msg === msg);

  test('a looping guest stops at its caller\'s deadline, shorter than limits.timeout_ms: the timeout answer, one failure line, the sandbox free', { timeout: 120_000 }, async () => {
    const from = h.logs.length;
    const deadline = new Deadline(1000);
    const r = await h.call('POST', '/loop', { body: {}, limits: { timeout_ms: 600_000 }, signal: deadline.signal });
    assert.equal(r.status, 500);
    assert.equal(r.error, 'execute_failed: timeout: execution exceeded 1000 ms and was stopped');
    assert.equal(deadline.expired, true);
    const failed = linesOf(from, 'execute failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.reason, 'timeout');
    assert.deepEqual(linesOf(from, 'caller went away: stopping the guest'), [], 'a deadline is not a caller going away');
    assert.equal(h.runner.stats().busy, 0);
    assert.deepEqual(json(await h.call('GET', '/counter')), { counter: 1 });
  });

  test('limits.timeout_ms shorter than the caller\'s deadline tightens that one deadline', { timeout: 120_000 }, async () => {
    const deadline = new Deadline(600_000);
    const r = await h.call('POST', '/loop', { body: {}, limits: { timeout_ms: 500 }, signal: deadline.signal });
    assert.equal(r.error, 'execute_failed: timeout: execution exceeded 500 ms and was stopped');
    assert.equal(deadline.budgetMs, 500, 'the caller sees the budget it was tightened to');
    assert.equal(deadline.expired, true);
  });

  test('the caller going away (the deadline\'s caller signal): cancelled, said once, the sandbox free', { timeout: 120_000 }, async () => {
    const from = h.logs.length;
    const caller = new AbortController();
    const deadline = new Deadline(600_000, caller.signal);
    const pending = h.call('POST', '/loop', { body: {}, signal: deadline.signal });
    while (h.runner.stats().busy === 0) await new Promise((r) => setImmediate(r));
    caller.abort();
    const r = await pending;
    assert.equal(r.error, 'execute_failed: cancelled: the caller went away; the guest was stopped');
    assert.equal(deadline.expired, false);
    assert.equal(linesOf(from, 'caller went away: stopping the guest').length, 1);
    assert.equal(linesOf(from, 'execute failed')[0]?.reason, 'cancelled');
    assert.equal(h.runner.stats().busy, 0);
    deadline.dispose();
  });

  test('our load is not the guest\'s time: bytes that arrive after the budget has passed still get the guest its whole budget', { timeout: 180_000 }, async () => {
    const bytes = await probeComponent();
    const contentHash = `sha256:${sha256Hex(bytes)}`;
    const cacheDir = mkdtempSync(join(tmpdir(), 'alga-deadline-')); // nothing transpiled: the load fetches and transpiles
    let fetched!: () => void;
    const fetching = new Promise<void>((r) => (fetched = r));
    let deliver!: () => void;
    const delivered = new Promise<void>((r) => (deliver = r));
    const runner = createRunner({
      cacheDir,
      sandboxPath,
      concurrency: 1,
      logger: silentLogger,
      components: {
        load: async () => {
          fetched();
          await delivered;
          return bytes;
        },
      },
    });
    try {
      const deadline = new Deadline(1000);
      const pending = runner.execute(
        { 'x-alga-tenant': 'tenant-1', 'x-alga-extension': 'probe' },
        { context: { tenant_id: 'tenant-1', extension_id: 'probe', content_hash: contentHash }, http: { method: 'GET', path: '/counter' }, limits: { timeout_ms: 1000 } },
        deadline.signal,
      );
      await fetching;
      // A later timer of a longer budget has fired: the 1 000 ms budget has passed while the bytes were on their way.
      const later = new Deadline(1500);
      await once(later.signal, 'abort');
      assert.equal(deadline.signal.aborted, false, 'the deadline fired during our load');
      deliver();
      const r = await pending;
      assert.equal(r.status, 200, r.error ?? undefined);
      assert.deepEqual(json(r), { counter: 1 });
      deadline.dispose();
    } finally {
      deliver();
      await runner.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
