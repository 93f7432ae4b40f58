/** The bridge's decisions, fed their inputs: whether a core is free now (core-free.ts, from readings
 * of the machine's runnable threads) and whether a worker spins for a reply (reply-wait.ts, from the
 * main thread's word and the function's last answer time). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORE_FREE_NEEDED, CORE_FREE_WINDOW, CoreFreeSignal, openRunnableReader, parseRunnable } from '../../../src/host/sandbox/core-free.js';
import { SHORT_SPIN_US, SPIN, replySpinUs } from '../../../src/host/sandbox/reply-wait.js';

test('the runnable count is the fourth field of /proc/loadavg; any other text gives none', () => {
  assert.equal(parseRunnable('0.52 0.58 0.59 2/467 12345\n'), 2);
  assert.equal(parseRunnable('12.00 9.10 3.33 17/1001 99'), 17);
  assert.equal(parseRunnable(''), undefined);
  assert.equal(parseRunnable('0.52 0.58 0.59'), undefined);
  assert.equal(parseRunnable('a b c d/e f'), undefined);
});

test('the reader reads the file anew on every call, and is absent where the file is missing or of another shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alga-core-free-'));
  const file = join(dir, 'loadavg');
  writeFileSync(file, '0.10 0.20 0.30 3/100 42\n');
  const read = openRunnableReader(file)!;
  assert.equal(read(), 3);
  writeFileSync(file, '0.10 0.20 0.30 11/100 42\n');
  assert.equal(read(), 11);
  assert.equal(openRunnableReader(join(dir, 'absent')), undefined);
  writeFileSync(join(dir, 'other'), 'not a load average\n');
  assert.equal(openRunnableReader(join(dir, 'other')), undefined);
});

test('a core is free only once enough readings had one to spare, our spinning threads left out', () => {
  const signal = new CoreFreeSignal(2);
  assert.equal(signal.free, false, 'no reading yet');
  for (let i = 0; i < CORE_FREE_NEEDED - 1; i++) signal.sample(1, 0);
  assert.equal(signal.free, false);
  signal.sample(1, 0);
  assert.equal(signal.free, true);
  // A guest of ours running only to wait for its reply is not a reason to stop.
  const spinning = new CoreFreeSignal(2);
  for (let i = 0; i < CORE_FREE_WINDOW; i++) spinning.sample(2, 1);
  assert.equal(spinning.free, true);
  // Another thread running beside the reading one: no core to spare on 2 cores, one on 4.
  const busy = new CoreFreeSignal(2);
  for (let i = 0; i < CORE_FREE_WINDOW; i++) busy.sample(2, 0);
  assert.equal(busy.free, false);
  const four = new CoreFreeSignal(4);
  for (let i = 0; i < CORE_FREE_WINDOW; i++) four.sample(3, 0);
  assert.equal(four.free, true);
  for (let i = 0; i < CORE_FREE_WINDOW; i++) four.sample(4, 0);
  assert.equal(four.free, false);
});

test('a few busy readings among many free ones keep the core free; more than that, and it is not', () => {
  const signal = new CoreFreeSignal(2);
  const busyAllowed = CORE_FREE_WINDOW - CORE_FREE_NEEDED;
  for (let i = 0; i < CORE_FREE_WINDOW; i++) signal.sample(i < busyAllowed ? 3 : 1, 0);
  assert.equal(signal.free, true);
  // The oldest readings (the busy ones) leave as busy ones come: still as many free.
  for (let i = 0; i < busyAllowed; i++) signal.sample(3, 0);
  assert.equal(signal.free, true);
  signal.sample(3, 0); // now a free one leaves
  assert.equal(signal.free, false);
  // Only the last window counts: free readings bring it back.
  for (let i = 0; i < CORE_FREE_WINDOW; i++) signal.sample(1, 0);
  assert.equal(signal.free, true);
});

test('no core free: the worker sleeps at once, whatever the function', () => {
  for (const last of [undefined, 0, 10, 900, 50_000]) assert.equal(replySpinUs(SPIN.none, last), 0);
  assert.equal(replySpinUs(7, 10), 0, 'a word of no known mode');
});

test('a core free: a function never called, or answered at once last time, gets the short spin; one with I/O behind it none', () => {
  assert.equal(replySpinUs(SPIN.short, undefined), SHORT_SPIN_US);
  assert.equal(replySpinUs(SPIN.short, 3), SHORT_SPIN_US);
  assert.equal(replySpinUs(SPIN.short, SHORT_SPIN_US), SHORT_SPIN_US);
  assert.equal(replySpinUs(SPIN.short, SHORT_SPIN_US + 1), 0);
  assert.equal(replySpinUs(SPIN.short, 900), 0);
});
