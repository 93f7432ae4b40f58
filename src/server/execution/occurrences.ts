/**
 * Occurrence arithmetic on cron-parser 5 (the library production validates with), in the schedule's
 * IANA zone. DST policy is cron-parser's, stated in docs/scheduling.md and pinned by tests:
 * - a local time skipped by a spring-forward change fires once, shifted forward by the gap
 *   (America/New_York `30 2 * * *` on 2026-03-08 fires at 03:30 EDT);
 * - a local time repeated by a fall-back change fires once, on its first pass (`30 1 * * *` fires
 *   at 01:30 EDT, not again at 01:30 EST); crons whose hour field is `*` fire every real hour, so
 *   `0 * * * *` fires at 01:00 EDT and at 01:00 EST.
 */
import { CronExpressionParser } from 'cron-parser';

type CronIterator = ReturnType<typeof CronExpressionParser.parse>;

// parse() costs ~0.2 ms with a zone; dispatch parses one expression per fired schedule, so keep a
// small cache of parsed expressions and reset them to the instant wanted.
const CACHE_MAX = 2000;
const cache = new Map<string, CronIterator>();

function iteratorAt(cron: string, timezone: string, from: Date): CronIterator {
  const key = `${timezone}\u0000${cron}`;
  let it = cache.get(key);
  if (!it) {
    it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: from });
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, it);
  } else {
    it.reset(from);
  }
  return it;
}

/** The first occurrence strictly after `after`, or null when the cron never fires again. */
export function nextOccurrence(cron: string, timezone: string, after: Date): Date | null {
  try {
    return iteratorAt(cron, timezone, after).next().toDate();
  } catch {
    return null;
  }
}

/** The next `count` occurrences strictly after `after` (fewer when the cron stops firing). */
export function nextOccurrences(cron: string, timezone: string, after: Date, count: number): Date[] {
  const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: after });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push(it.next().toDate());
    } catch {
      break;
    }
  }
  return out;
}

/** How far the forward walk over missed occurrences goes before falling back to prev()/next(). */
export const MISSED_WALK_LIMIT = 2000;

export interface DueOccurrence {
  /** The occurrence to run: the latest one at or before `now`. */
  occurrence: Date;
  /** Earlier occurrences not run (missed while no dispatcher ran); `droppedAtLeast` when the walk was cut. */
  dropped: number;
  droppedAtLeast: boolean;
  /** The first occurrence after `now` (null: never again). */
  next: Date | null;
}

/**
 * Missed-occurrence policy ("run once on recovery, never a storm"): of the occurrences from
 * `dueAt` (the stored next_run_at, ≤ now) up to `now`, only the latest runs; the rest are dropped
 * and counted so the dispatcher can log them.
 */
export function dueOccurrence(cron: string, timezone: string, dueAt: Date, now: Date): DueOccurrence {
  let latest = dueAt;
  let dropped = 0;
  const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: dueAt });
  for (let i = 0; i < MISSED_WALK_LIMIT; i++) {
    let n: Date;
    try {
      n = it.next().toDate();
    } catch {
      return { occurrence: latest, dropped, droppedAtLeast: false, next: null };
    }
    if (n.getTime() > now.getTime()) return { occurrence: latest, dropped, droppedAtLeast: false, next: n };
    latest = n;
    dropped++;
  }
  // A very long outage: jump straight to the latest occurrence at or before now.
  const around = CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(now.getTime() + 1) });
  const last = around.prev().toDate();
  return { occurrence: last, dropped, droppedAtLeast: true, next: nextOccurrence(cron, timezone, now) };
}
