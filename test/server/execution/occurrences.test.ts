/** DST policy and missed-occurrence policy as pure computation (cron-parser 5 in the schedule's zone). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MISSED_WALK_LIMIT, dueOccurrence, nextOccurrence, nextOccurrences } from '../../../src/server/execution/occurrences.js';
import { countCronSteps } from '../../support/cron-steps.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;
const list = (cron: string, tz: string, from: string, n: number) => nextOccurrences(cron, tz, new Date(from), n).map((d) => d.toISOString());

describe('DST: America/New_York (spring 2026-03-08 02:00→03:00, autumn 2026-11-01 02:00→01:00)', () => {
  test('spring: a skipped local time fires once, shifted forward by the gap (02:30 → 03:30 EDT)', () => {
    assert.deepEqual(list('30 2 * * *', 'America/New_York', '2026-03-06T12:00:00Z', 4), [
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:30:00.000Z', // 03:30 EDT (02:30 does not exist)
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  test('spring: occurrences inside the gap collapse onto the first valid time, never twice', () => {
    assert.deepEqual(list('*/30 1-3 * * *', 'America/New_York', '2026-03-08T05:00:00Z', 4), [
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT (02:00 and 03:00 are one instant)
      '2026-03-08T07:30:00.000Z', // 03:30 EDT
    ]);
  });

  test('autumn: a repeated local time fires once, on its first pass (01:30 EDT, not 01:30 EST)', () => {
    assert.deepEqual(list('30 1 * * *', 'America/New_York', '2026-10-30T12:00:00Z', 3), [
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; the 01:30 EST pass (06:30Z) does not fire
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  test('autumn: an hourly cron fires every real hour, both 01:00s included', () => {
    assert.deepEqual(list('0 * * * *', 'America/New_York', '2026-11-01T04:00:00Z', 3), [
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ]);
  });
});

describe('DST: Europe/London (spring 2026-03-29 01:00→02:00, autumn 2026-10-25 02:00→01:00)', () => {
  test('spring: 01:30 does not exist and fires at 02:30 BST', () => {
    assert.deepEqual(list('30 1 * * *', 'Europe/London', '2026-03-27T12:00:00Z', 3), [
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z', // 02:30 BST
      '2026-03-30T00:30:00.000Z', // 01:30 BST
    ]);
  });

  test('autumn: 01:30 fires once, at 01:30 BST', () => {
    assert.deepEqual(list('30 1 * * *', 'Europe/London', '2026-10-23T12:00:00Z', 3), [
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 01:30 BST; 01:30 GMT (01:30Z) does not fire
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  test('autumn: an hourly cron fires at 01:00 BST and 01:00 GMT', () => {
    assert.deepEqual(list('0 * * * *', 'Europe/London', '2026-10-24T23:30:00Z', 3), [
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });
});

describe('next occurrence', () => {
  test('strictly after the instant given', () => {
    assert.equal(iso(nextOccurrence('*/5 * * * *', 'UTC', new Date('2026-01-01T00:05:00Z'))), '2026-01-01T00:10:00.000Z');
    assert.equal(iso(nextOccurrence('*/5 * * * *', 'UTC', new Date('2026-01-01T00:04:59.999Z'))), '2026-01-01T00:05:00.000Z');
  });
});

describe('missed occurrences: run once on recovery', () => {
  test('on time: the due occurrence runs, nothing dropped', () => {
    const d = dueOccurrence('*/5 * * * *', 'UTC', new Date('2026-01-01T00:05:00Z'), new Date('2026-01-01T00:05:01Z'));
    assert.deepEqual([iso(d.occurrence), d.dropped, iso(d.next)], ['2026-01-01T00:05:00.000Z', 0, '2026-01-01T00:10:00.000Z']);
  });

  test('an hour late: only the latest occurrence runs; the 12 before it are dropped and counted', () => {
    const d = dueOccurrence('*/5 * * * *', 'UTC', new Date('2026-01-01T00:05:00Z'), new Date('2026-01-01T01:07:00Z'));
    assert.deepEqual([iso(d.occurrence), d.dropped, d.droppedAtLeast, iso(d.next)], ['2026-01-01T01:05:00.000Z', 12, false, '2026-01-01T01:10:00.000Z']);
  });

  test('a year late: bounded work, still one run and the right next occurrence', () => {
    // A year of */5 is ~105 000 occurrences; the walk stops at its limit and jumps to the latest.
    const { result: d, steps } = countCronSteps(() =>
      dueOccurrence('*/5 * * * *', 'America/New_York', new Date('2025-01-01T00:05:00Z'), new Date('2026-01-01T01:07:00Z')),
    );
    assert.ok(steps <= MISSED_WALK_LIMIT + 2, `${steps} occurrences computed`);
    assert.equal(iso(d.occurrence), '2026-01-01T01:05:00.000Z');
    assert.equal(d.droppedAtLeast, true);
    assert.equal(iso(d.next), '2026-01-01T01:10:00.000Z');
  });
});
