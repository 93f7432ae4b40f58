/** The cron in words (cronstrue) agrees with our validation: every cron we accept has words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronInWords } from '../../../src/server/scheduler/cron-words.js';
import { validateCronSyntax } from '../../../src/server/scheduler/validation.js';

test('words for the sample\'s crons; none for a cron our validation refuses', () => {
  assert.equal(cronInWords('*/5 * * * *'), 'Every 5 minutes');
  assert.equal(cronInWords('0 9 * * *'), 'At 09:00');
  assert.equal(cronInWords('0 9 * * 1-5'), 'At 09:00, Monday through Friday');
  for (const bad of ['* * * * *', '0 9 1 * 1', '0 25 * * *', 'every day', '0 9 * *']) assert.equal(cronInWords(bad), null, bad);
});

test('cronstrue reads every cron our validation accepts, among 20 000 random ones', () => {
  // A small deterministic generator (no wall clock, no Math.random: the same crons every run).
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const ranges = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]] as const;
  const field = (i: number): string => {
    const [lo, hi] = ranges[i]!;
    const v = () => String(lo + rnd(hi - lo + 3)); // sometimes out of range
    switch (rnd(6)) {
      case 0: return '*';
      case 1: return v();
      case 2: return `${v()}-${v()}`;
      case 3: return `*/${1 + rnd(20)}`;
      case 4: return `${v()}-${v()}/${1 + rnd(6)}`;
      default: return [v(), v(), v()].join(',');
    }
  };
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const cron = [0, 1, 2, 3, 4].map(field).join(' ');
    let valid = false;
    try {
      validateCronSyntax(cron);
      valid = true;
    } catch {
      // refused by us: no words
    }
    const words = cronInWords(cron);
    if (valid) {
      accepted++;
      assert.ok(words && words.length > 0, `we accept "${cron}" but have no words for it`);
    } else {
      assert.equal(words, null, cron);
    }
  }
  assert.ok(accepted > 1000, `enough accepted crons to mean something (${accepted})`);
});
