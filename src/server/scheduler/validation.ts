import { CronExpressionParser } from 'cron-parser';
import { isRfc4122Uuid } from '../../shared/uuid.js';

/** Production's limits (docs/production-contract.md#scheduler-validation, #scheduler-operations), named so their use reads as policy. */
export const CRON_MAX_LENGTH = 128;
export const CRON_FIELD_COUNT = 5;
export const MIN_INTERVAL_MINUTES = 5;
export const TIMEZONE_MAX_LENGTH = 64;
export const NAME_MAX_LENGTH = 128;
export const ENDPOINT_MAX_LENGTH = 256;
export const PAYLOAD_MAX_CHARS = 100_000;
export const MAX_SCHEDULES_PER_INSTALL = 50;
export const DEFAULT_TIMEZONE = 'UTC';

/** Production's wording, verbatim where production has the rule. */
export const MESSAGES = {
  cronTooLong: 'Cron expression too long',
  cronFieldCount: 'Invalid cron expression (expected 5 fields: m h dom mon dow)',
  cronCharacters: 'Invalid cron expression (unsupported characters)',
  cronDomAndDow: 'Cron cannot set both day-of-month and day-of-week',
  cronTooFrequent: 'Cron too frequent (minimum interval is 5 minutes)',
  cronNeverFires: 'Invalid cron expression (no date matches it)',
  timezoneTooLong: 'Timezone too long',
  timezoneInvalid: 'Invalid timezone',
  payloadShape: 'Payload must be a JSON object or array',
  payloadTooLarge: 'Payload too large',
  payloadNotSerializable: 'Payload must be JSON-serializable',
  nameTooLong: 'Name too long',
  // Not production's: Postgres cannot store NUL, so production answers these with a 500.
  nameNul: 'Name must not contain NUL characters',
  payloadNul: 'Payload must not contain NUL characters',
  nameInUse: 'Schedule name already in use for this extension',
  scheduleIdMissing: 'Missing scheduleId',
  scheduleIdInvalid: 'Invalid scheduleId',
  endpointNotSchedulable: 'Endpoint not found or not schedulable',
  tooManySchedules: `Too many schedules (max ${MAX_SCHEDULES_PER_INSTALL} per extension install)`,
  scheduleNotFound: 'Schedule not found',
} as const;

/** A caller input problem; `field` null means no field error (production's "Missing scheduleId"). */
export class ScheduleInputError extends Error {
  constructor(
    readonly field: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleInputError';
  }
}

const CRON_FIELD_NAMES = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const CRON_FIELD_CHARS = /^[0-9*/,-]+$/;
// Production's whole frequency rule (pattern-based); kept as a fast path with the same message.
const PRODUCTION_TOO_FREQUENT_MINUTES = new Set(['*', '*/1', '*/2', '*/3', '*/4']);

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MIN_INTERVAL_MS = MIN_INTERVAL_MINUTES * MINUTE_MS;
// Steady-state scan: 320 occurrences ≥ 5 min apart span more than a day, so every gap of a dense cron
// is seen once including midnight; a sparse cron's 320 cover weeks to years (month ends, 31st → 1st).
// The 4-year cap bounds yearly crons and still covers a leap day.
export const STEADY_SCAN_OCCURRENCES = 320;
const STEADY_SCAN_SPAN_MS = (4 * 365 + 2) * DAY_MS;
// DST scan: occurrences within 3 h of each of the zone's next transitions (a shift is at most 1 h,
// and a gap < 5 min straddling a transition has both ends within minutes of it).
const DST_TRANSITIONS_CHECKED = 2;
const DST_LOOKAHEAD_DAYS = 366;
const DST_SCAN_HALF_WIDTH_MS = 3 * HOUR_MS;
export const DST_SCAN_OCCURRENCES = 6 * 12 + 2;

function asTrimmedString(input: unknown, fallback: string): string {
  return input === null || input === undefined ? fallback : String(input).trim();
}

const knownZones = new Set<string>(); // building a formatter costs ~0.2 ms; zones are few

export function isValidTimezone(tz: string): boolean {
  if (knownZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return false;
  }
  if (knownZones.size < 1000) knownZones.add(tz);
  return true;
}

/** Production's cron rules, in production's order and wording (those that do not depend on the timezone); returns the trimmed cron. */
export function validateCronSyntax(input: unknown): string {
  const cron = asTrimmedString(input, '');
  if (cron.length > CRON_MAX_LENGTH) throw new ScheduleInputError('cron', MESSAGES.cronTooLong);
  const fields = cron.split(/\s+/);
  if (fields.length !== CRON_FIELD_COUNT || fields[0] === '') {
    throw new ScheduleInputError('cron', MESSAGES.cronFieldCount);
  }
  if (!fields.every((f) => CRON_FIELD_CHARS.test(f))) throw new ScheduleInputError('cron', MESSAGES.cronCharacters);
  const [minute, hour, dom, month, dow] = fields;
  if (dom !== '*' && dow !== '*') throw new ScheduleInputError('cron', MESSAGES.cronDomAndDow);
  if (hour === '*' && dom === '*' && month === '*' && dow === '*' && PRODUCTION_TOO_FREQUENT_MINUTES.has(minute)) {
    throw new ScheduleInputError('cron', MESSAGES.cronTooFrequent);
  }
  checkFieldRanges(fields);
  return cron;
}

/**
 * Our cron rule after production's (docs/differences.md#minimum-interval): rejects (field `cron`) a
 * cron whose fields are in range but never fire together, that never fires, or whose consecutive
 * occurrences — computed by cron-parser in `timezone` (invalid or missing → UTC; the timezone's own
 * error is reported by validateTimezone), around its DST changes too — can be < 5 minutes apart.
 */
export function assertMinimumInterval(cron: string, timezone?: string, now: Date = new Date()): void {
  const tz = timezone && isValidTimezone(timezone) ? timezone : DEFAULT_TIMEZONE;
  if (hasGapUnderMinimum(cron, tz, now)) throw new ScheduleInputError('cron', MESSAGES.cronTooFrequent);
}

// Parses each field alone so the message names the field: "minute field: got value 99 …".
function checkFieldRanges(fields: string[]): void {
  fields.forEach((field, i) => {
    const probe = ['0', '0', '*', '*', '*'];
    probe[i] = field;
    try {
      CronExpressionParser.parse(probe.join(' '));
    } catch (err) {
      const detail = (err as Error).message.replace(/^Constraint error, /, '');
      throw new ScheduleInputError('cron', `Invalid cron expression (${CRON_FIELD_NAMES[i]} field: ${detail})`);
    }
  });
}

const SINGLE_VALUE = /^\d+$/;
const GAP_CACHE_SIZE = 1000;
/** Verdicts by (cron, zone, UTC day): which DST changes come next only moves day by day. */
const gapCache = new Map<string, boolean>();

function hasGapUnderMinimum(cron: string, tz: string, now: Date): boolean {
  const key = `${cron}\u0000${tz}\u0000${now.toISOString().slice(0, 10)}`;
  const cached = gapCache.get(key);
  if (cached !== undefined) return cached;
  const verdict = scanForShortGap(cron, tz, now);
  if (gapCache.size >= GAP_CACHE_SIZE) gapCache.delete(gapCache.keys().next().value!);
  gapCache.set(key, verdict);
  return verdict;
}

function scanForShortGap(cron: string, tz: string, now: Date): boolean {
  const start = now.getTime();
  const [minute, hour] = cron.split(/\s+/);
  // One minute of one hour: at most one occurrence per local day, so consecutive occurrences are
  // about a day apart whatever DST does; only whether it fires at all needs cron-parser.
  const oncePerDay = SINGLE_VALUE.test(minute!) && SINGLE_VALUE.test(hour!);
  let steady: GapScan;
  try {
    steady = scanGaps(cron, tz, start, start + STEADY_SCAN_SPAN_MS, oncePerDay ? 1 : STEADY_SCAN_OCCURRENCES);
  } catch (err) {
    // Fields in range but not together, e.g. cron-parser's "Invalid explicit day of month definition" (30 February).
    throw new ScheduleInputError('cron', `Invalid cron expression (${(err as Error).message})`);
  }
  if (steady.occurrences === 0) throw new ScheduleInputError('cron', MESSAGES.cronNeverFires);
  if (steady.shortGap) return true;
  if (oncePerDay) return false;
  for (const t of nextOffsetChanges(tz, start)) {
    const around = scanGaps(cron, tz, t - DST_SCAN_HALF_WIDTH_MS, t + DST_SCAN_HALF_WIDTH_MS, DST_SCAN_OCCURRENCES);
    if (around.shortGap) return true;
  }
  return false;
}

interface GapScan {
  occurrences: number;
  shortGap: boolean;
}

/** Walks cron-parser's occurrences in (from, until], stopping at the first gap under the minimum. */
function scanGaps(cron: string, tz: string, from: number, until: number, maxOccurrences: number): GapScan {
  const it = CronExpressionParser.parse(cron, { tz, currentDate: new Date(from) });
  let previous: number | undefined;
  let occurrences = 0;
  while (occurrences < maxOccurrences) {
    let at: number;
    try {
      at = it.next().getTime();
    } catch {
      break; // no later occurrence within cron-parser's search limit
    }
    if (at > until) break;
    occurrences++;
    if (previous !== undefined && at - previous < MIN_INTERVAL_MS) return { occurrences, shortGap: true };
    previous = at;
  }
  return { occurrences, shortGap: false };
}

/** The instants (to the minute) of the zone's next UTC-offset changes within a year. */
export function nextOffsetChanges(tz: string, fromMs: number, max = DST_TRANSITIONS_CHECKED): number[] {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
  const offsetAt = (ms: number) => fmt.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value;
  const changes: number[] = [];
  let lo = fromMs;
  let loOffset = offsetAt(lo);
  for (let day = 1; day <= DST_LOOKAHEAD_DAYS && changes.length < max; day++) {
    const hi = fromMs + day * DAY_MS;
    const hiOffset = offsetAt(hi);
    if (hiOffset !== loOffset) {
      // Binary search over whole minutes: offsets change on a minute boundary.
      let a = Math.floor(lo / MINUTE_MS);
      let b = Math.ceil(hi / MINUTE_MS);
      while (b - a > 1) {
        const mid = Math.floor((a + b) / 2);
        if (offsetAt(mid * MINUTE_MS) === loOffset) a = mid;
        else b = mid;
      }
      changes.push(b * MINUTE_MS);
    }
    lo = hi;
    loOffset = hiOffset;
  }
  return changes;
}

/** Production's rule: missing/blank → UTC; ≤ 64 chars; accepted by Intl; stored trimmed as given. */
export function validateTimezone(input: unknown): string {
  const tz = asTrimmedString(input, DEFAULT_TIMEZONE) || DEFAULT_TIMEZONE;
  if (tz.length > TIMEZONE_MAX_LENGTH) throw new ScheduleInputError('timezone', MESSAGES.timezoneTooLong);
  if (!isValidTimezone(tz)) throw new ScheduleInputError('timezone', MESSAGES.timezoneInvalid);
  return tz;
}

/** `\u0000` in JSON text (an unescaped backslash before it), which jsonb refuses. */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** Returns the JSON text to store (or null). Objects and arrays only, ≤ 100 000 chars of JSON. */
export function validatePayload(input: unknown): string | null {
  if (input === null || input === undefined) return null;
  if (typeof input !== 'object') throw new ScheduleInputError('payload', MESSAGES.payloadShape);
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch {
    throw new ScheduleInputError('payload', MESSAGES.payloadNotSerializable);
  }
  if (json === undefined) throw new ScheduleInputError('payload', MESSAGES.payloadNotSerializable);
  if (json.length > PAYLOAD_MAX_CHARS) throw new ScheduleInputError('payload', MESSAGES.payloadTooLarge);
  if (ESCAPED_NUL.test(json)) throw new ScheduleInputError('payload', MESSAGES.payloadNul);
  return json;
}

/** Blank → null (no name); over 128 chars rejected. */
export function validateName(input: unknown): string | null {
  const name = asTrimmedString(input, '');
  if (!name) return null;
  if (name.length > NAME_MAX_LENGTH) throw new ScheduleInputError('name', MESSAGES.nameTooLong);
  if (name.includes('\0')) throw new ScheduleInputError('name', MESSAGES.nameNul);
  return name;
}

export function validateScheduleId(input: unknown): string {
  const id = asTrimmedString(input, '');
  if (!id) throw new ScheduleInputError(null, MESSAGES.scheduleIdMissing);
  if (!isRfc4122Uuid(id)) throw new ScheduleInputError('scheduleId', MESSAGES.scheduleIdInvalid);
  return id;
}

export function validateEnabled(input: unknown): boolean {
  return typeof input === 'boolean' ? input : true;
}
