/** One deadline per execution (src/shared/deadline.ts): its signal, its reasons, held load, tightening. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Deadline, DeadlineExceededError, deadlineOf, LOAD_ALLOWANCE_MS } from '../../src/shared/deadline.js';

test('the signal fires at the deadline with DeadlineExceededError; expired says so', async () => {
  const d = new Deadline(5);
  await once(d.signal, 'abort');
  assert.ok(d.signal.reason instanceof DeadlineExceededError);
  assert.match((d.signal.reason as Error).message, /timed out/);
  assert.equal(d.expired, true);
  assert.equal(d.budgetMs, 5);
});

test('the caller going away fires the same signal with the caller\'s reason: not expired', () => {
  const caller = new AbortController();
  const d = new Deadline(60_000, caller.signal);
  caller.abort(new Error('gone'));
  assert.equal(d.signal.aborted, true);
  assert.equal((d.signal.reason as Error).message, 'gone');
  assert.equal(d.expired, false);
  const late = new Deadline(60_000, caller.signal); // a caller already gone
  assert.equal(late.signal.aborted, true);
  d.dispose();
});

test('no budget: only the caller can stop it', () => {
  const d = new Deadline(undefined);
  assert.equal(d.budgetMs, Infinity);
  assert.equal(d.msToEnd(), Infinity);
  assert.equal(d.signal.aborted, false);
  d.dispose();
});

test('deadlineOf finds the deadline behind its signal, and nothing behind another signal', () => {
  const d = new Deadline(1000);
  assert.equal(deadlineOf(d.signal), d);
  assert.equal(deadlineOf(new AbortController().signal), undefined);
  assert.equal(deadlineOf(undefined), undefined);
  d.dispose();
});

test('tighten: a shorter budget replaces a longer one, a longer one changes nothing', () => {
  const d = new Deadline(60_000);
  d.tighten(120_000);
  assert.equal(d.budgetMs, 60_000);
  d.tighten(undefined);
  assert.equal(d.budgetMs, 60_000);
  d.tighten(1000);
  assert.equal(d.budgetMs, 1000);
  assert.ok(d.msToEnd() <= 1000);
  d.dispose();
});

test('held for our load: it does not fire past its budget while held, and moves later by the time held', async () => {
  const d = new Deadline(50);
  const release = d.hold();
  await sleep(120); // well past the 50 ms budget
  assert.equal(d.signal.aborted, false, 'fired while our load held it');
  assert.ok(d.msToEnd() > 0 && d.msToEnd() <= 50 + LOAD_ALLOWANCE_MS, 'while held it can end only at its ceiling');
  release();
  release(); // idempotent
  assert.equal(d.signal.aborted, false, 'the guest gets its budget after the load');
  await once(d.signal, 'abort');
  assert.equal(d.expired, true);
});

test('a hold never outlasts the ceiling: a load that never ends still ends the execution', async () => {
  const d = new Deadline(1);
  d.hold(); // never released
  assert.equal(d.signal.aborted, false);
  assert.ok(d.msToEnd() <= 1 + LOAD_ALLOWANCE_MS);
  await once(d.signal, 'abort'); // at the ceiling: budget + LOAD_ALLOWANCE_MS
  assert.equal(d.expired, true);
});

test('race: the promise, or the signal\'s reason as soon as it fires', async () => {
  const d = new Deadline(60_000);
  assert.equal(await d.race(Promise.resolve(7)), 7);
  const caller = new AbortController();
  const e = new Deadline(60_000, caller.signal);
  const pending = e.race(new Promise(() => {}));
  caller.abort(new Error('gone'));
  await assert.rejects(pending, /gone/);
  d.dispose();
});
