import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import {
  DST_SCAN_OCCURRENCES,
  MESSAGES,
  NAME_MAX_LENGTH,
  PAYLOAD_MAX_CHARS,
  STEADY_SCAN_OCCURRENCES,
  ScheduleInputError,
  TIMEZONE_MAX_LENGTH,
  nextOffsetChanges,
  validateEnabled,
  validateName,
  validatePayload,
  validateScheduleId,
  validateTimezone,
} from '../../../src/server/scheduler/validation.js';
import { countCronSteps } from '../../support/cron-steps.js';
import { validateCron } from '../../support/validate-cron.js';

function rejects(fn: () => unknown, field: string | null, message: string | RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScheduleInputError, `expected ScheduleInputError, got ${e}`);
    assert.equal(e.field, field);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('cron', () => {
  test('cron: accepts */5, */10, hourly, daily, weekly, monthly and returns it trimmed (production-contract.md#scheduler-validation)', () => {
    for (const c of ['*/5 * * * *', '*/10 * * * *', '0 * * * *', '30 9 * * *', '0 9 * * 1', '0 0 1 * *', '15 3 1 1 *', '0,30 * * * *']) {
      assert.equal(validateCron(`  ${c}  `), c);
    }
    assert.equal(validateCron('0  9 * * 1'), '0  9 * * 1', 'internal whitespace is kept, as production');
  });

  test('cron: rejects 4 or 6 fields, empty and blank with the field-count message', () => {
    for (const c of ['* * * *', '0 * * * * *', '', '   ', undefined, null]) rejects(() => validateCron(c), 'cron', MESSAGES.cronFieldCount);
  });

  test('cron: rejects letters and @#% characters', () => {
    for (const c of ['0 9 * * MON', '0 0 1 JAN *', '@daily x y z w', '0 0 L * *', '0 0 * * 1#2', '0 0 ? * *', '% * * * *']) {
      rejects(() => validateCron(c), 'cron', MESSAGES.cronCharacters);
    }
  });

  test('cron: rejects both day-of-month and day-of-week set, */2 counting as set', () => {
    rejects(() => validateCron('0 0 1 * 1'), 'cron', MESSAGES.cronDomAndDow);
    rejects(() => validateCron('0 0 */2 * 1'), 'cron', MESSAGES.cronDomAndDow);
  });

  test('cron: rejects a cron longer than 128 characters first', () => {
    rejects(() => validateCron('1,'.repeat(70) + '1 * * * * x'), 'cron', MESSAGES.cronTooLong);
  });

  test("cron: rejects production's too-frequent patterns * / */1 / */2 / */3 / */4", () => {
    for (const m of ['*', '*/1', '*/2', '*/3', '*/4']) rejects(() => validateCron(`${m} * * * *`), 'cron', MESSAGES.cronTooFrequent);
  });

  // docs/differences.md#minimum-interval: production passes each of these.
  test('cron: rejects a cron that fires every minute however it is written (0-59, */1 in one hour, 0,1)', () => {
    for (const c of ['0-59 * * * *', '*/1 9 * * *', '0,1 * * * *', '1,2,3 * * * *', '0-4 9 * * 1', '*/2 9-17 * * *', '0,58 1,2 * * *']) {
      rejects(() => validateCron(c), 'cron', MESSAGES.cronTooFrequent);
    }
  });

  test('cron: rejects a pair of occurrences 4 minutes apart across midnight (23:58 → 00:02)', () => {
    rejects(() => validateCron('2,58 0,23 * * *'), 'cron', MESSAGES.cronTooFrequent);
  });

  test('cron: accepts occurrences exactly 5 minutes apart, also across the hour', () => {
    for (const c of ['0,5 * * * *', '55 8 * * *', '0,55 * * * *', '0-55/5 9 * * *']) assert.equal(validateCron(c), c);
  });

  test('cron: rejects out-of-range fields naming the field (production accepts 99 99 99 99 99)', () => {
    rejects(() => validateCron('99 * * * *'), 'cron', /^Invalid cron expression \(minute field: .*99.*0-59\)$/);
    rejects(() => validateCron('0 24 * * *'), 'cron', /hour field/);
    rejects(() => validateCron('0 0 32 * *'), 'cron', /day-of-month field/);
    rejects(() => validateCron('0 0 * 13 *'), 'cron', /month field/);
    rejects(() => validateCron('0 0 * * 8'), 'cron', /day-of-week field/);
    rejects(() => validateCron('99 99 99 99 *'), 'cron', /minute field/);
    // Production's own order puts the day-of-month + day-of-week rule first, so this is rejected there too.
    rejects(() => validateCron('99 99 99 99 99'), 'cron', MESSAGES.cronDomAndDow);
    rejects(() => validateCron('5-1 * * * *'), 'cron', /minute field/);
    rejects(() => validateCron('*/0 * * * *'), 'cron', /minute field/);
  });

  test('cron: rejects a cron no date matches (30 February)', () => {
    rejects(() => validateCron('0 0 30 2 *'), 'cron', /^Invalid cron expression \(/);
  });

  test('cron: */5 is accepted in America/New_York, across both DST changes', () => {
    for (const now of ['2026-03-07T12:00:00Z', '2026-10-31T12:00:00Z', '2026-11-22T00:00:00Z']) {
      assert.equal(validateCron('*/5 * * * *', { timezone: 'America/New_York', now: new Date(now) }), '*/5 * * * *');
    }
  });

  test('cron: 0,1 * * * * is rejected in any zone', () => {
    for (const tz of ['UTC', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata']) {
      rejects(() => validateCron('0,1 * * * *', { timezone: tz }), 'cron', MESSAGES.cronTooFrequent);
    }
  });

  /*
   * What we found (cron-parser 5, America/New_York, spring forward 2026-03-08 02:00 EST → 03:00 EDT):
   * - '59 0,2 * * *': 00:59 EST (05:59Z) → the skipped 02:59 runs at 03:59 EDT (07:59Z): 2 h apart. Fine.
   * - '30 2,3 * * *': the skipped 02:30 becomes 03:30 EDT, the same instant as 03:30: cron-parser yields it once.
   * - '1,58 1,3 * * *': 57 min or more apart on every ordinary day, but on the spring-forward day
   *   01:58 EST (06:58Z) → 03:01 EDT (07:01Z) is 3 minutes of real time. Rejected only because of DST.
   * - Fall back: cron-parser does not repeat the doubled hour, so fall-back only lengthens gaps.
   */
  test('cron: 1,58 1,3 * * * is fine in UTC but rejected in America/New_York (01:58 EST → 03:01 EDT is 3 min)', () => {
    const it = CronExpressionParser.parse('1,58 1,3 * * *', { tz: 'America/New_York', currentDate: new Date('2026-03-08T06:30:00Z') });
    const [a, b] = [it.next().getTime(), it.next().getTime()];
    assert.equal(new Date(a).toISOString(), '2026-03-08T06:58:00.000Z');
    assert.equal((b - a) / 60_000, 3, 'the real gap on the spring-forward day');

    assert.equal(validateCron('1,58 1,3 * * *', { timezone: 'UTC' }), '1,58 1,3 * * *');
    rejects(() => validateCron('1,58 1,3 * * *', { timezone: 'America/New_York' }), 'cron', MESSAGES.cronTooFrequent);
    rejects(
      () => validateCron('1,58 1,3 * * *', { timezone: 'America/New_York', now: new Date('2026-01-10T00:00:00Z') }),
      'cron',
      MESSAGES.cronTooFrequent,
    );
    // Tokyo has no DST: the same cron is fine there.
    assert.equal(validateCron('1,58 1,3 * * *', { timezone: 'Asia/Tokyo' }), '1,58 1,3 * * *');
  });

  test("cron: 59 0,2 * * * is accepted in America/New_York (the skipped 02:59 runs at 03:59, 2 h after 00:59)", () => {
    assert.equal(validateCron('59 0,2 * * *', { timezone: 'America/New_York', now: new Date('2026-03-01T00:00:00Z') }), '59 0,2 * * *');
  });

  test('cron: nextOffsetChanges finds New York’s spring and fall changes to the minute', () => {
    const changes = nextOffsetChanges('America/New_York', Date.parse('2026-01-01T00:00:00Z'));
    assert.deepEqual(
      changes.map((t) => new Date(t).toISOString()),
      ['2026-03-08T07:00:00.000Z', '2026-11-01T06:00:00.000Z'],
    );
    assert.deepEqual(nextOffsetChanges('UTC', Date.now()), []);
  });

  test('cron: the computed check is bounded (a dense valid cron in a DST zone scans a day plus its DST changes, once a day)', () => {
    // A day of */5 (288) within the steady scan's 320, and 6 h around each of the next two changes.
    const now = new Date('2026-02-01T12:00:00Z');
    const first = countCronSteps(() => validateCron('*/5 * * * *', { timezone: 'America/New_York', now }));
    assert.equal(first.result, '*/5 * * * *');
    assert.ok(first.steps > 0 && first.steps <= STEADY_SCAN_OCCURRENCES + 2 * DST_SCAN_OCCURRENCES, `${first.steps} occurrences computed`);
    const again = countCronSteps(() => validateCron('*/5 * * * *', { timezone: 'America/New_York', now }));
    assert.equal(again.steps, 0, 'the verdict for the same cron, zone and day is reused');
  });
});

describe('timezone', () => {
  test('timezone: defaults to UTC when missing or blank; stored trimmed as given', () => {
    assert.equal(validateTimezone(undefined), 'UTC');
    assert.equal(validateTimezone(null), 'UTC');
    assert.equal(validateTimezone('   '), 'UTC');
    assert.equal(validateTimezone(' America/New_York '), 'America/New_York');
    assert.equal(validateTimezone('US/Eastern'), 'US/Eastern', 'not canonicalized');
  });

  test('timezone: rejects invalid zones and zones longer than 64 characters', () => {
    rejects(() => validateTimezone('Mars/Olympus_Mons'), 'timezone', MESSAGES.timezoneInvalid);
    rejects(() => validateTimezone('A'.repeat(TIMEZONE_MAX_LENGTH + 1)), 'timezone', MESSAGES.timezoneTooLong);
  });
});

describe('payload', () => {
  test('payload: accepts null, objects, arrays and exactly 100 000 characters of JSON', () => {
    assert.equal(validatePayload(null), null);
    assert.equal(validatePayload(undefined), null);
    assert.equal(validatePayload({ a: 1 }), '{"a":1}');
    assert.equal(validatePayload([1, 2]), '[1,2]');
    const exact = { k: 'x'.repeat(PAYLOAD_MAX_CHARS - 8) };
    assert.equal(JSON.stringify(exact).length, PAYLOAD_MAX_CHARS);
    assert.equal(validatePayload(exact)?.length, PAYLOAD_MAX_CHARS);
  });

  test('payload: rejects strings, numbers, booleans, over-long JSON and cycles', () => {
    for (const p of ['{"a":1}', 3, true]) rejects(() => validatePayload(p), 'payload', MESSAGES.payloadShape);
    rejects(() => validatePayload({ k: 'x'.repeat(PAYLOAD_MAX_CHARS - 7) }), 'payload', MESSAGES.payloadTooLarge);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    rejects(() => validatePayload(cyclic), 'payload', MESSAGES.payloadNotSerializable);
  });
});

describe('name, scheduleId, enabled', () => {
  test('name: blank becomes null; 128 accepted; 129 rejected', () => {
    assert.equal(validateName('  '), null);
    assert.equal(validateName(null), null);
    assert.equal(validateName(' nightly '), 'nightly');
    assert.equal(validateName('n'.repeat(NAME_MAX_LENGTH)), 'n'.repeat(NAME_MAX_LENGTH));
    rejects(() => validateName('n'.repeat(NAME_MAX_LENGTH + 1)), 'name', MESSAGES.nameTooLong);
  });

  test('scheduleId: empty is a plain error, non-v1–5 UUIDs a field error', () => {
    rejects(() => validateScheduleId(' '), null, MESSAGES.scheduleIdMissing);
    rejects(() => validateScheduleId('nope'), 'scheduleId', MESSAGES.scheduleIdInvalid);
    rejects(() => validateScheduleId('01890000-0000-7000-8000-000000000000'), 'scheduleId', MESSAGES.scheduleIdInvalid);
    assert.equal(validateScheduleId(' 2f1b7c1e-3b7a-4c55-9a53-0c1f4b2d9e10 '), '2f1b7c1e-3b7a-4c55-9a53-0c1f4b2d9e10');
  });

  test('enabled: defaults to true unless a boolean is given', () => {
    assert.equal(validateEnabled(undefined), true);
    assert.equal(validateEnabled('false'), true);
    assert.equal(validateEnabled(false), false);
  });
});
