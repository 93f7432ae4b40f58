import { CronExpression } from 'cron-parser';

/**
 * Runs `fn` counting the occurrences cron-parser computes (each next() or prev() of any of its
 * iterators), so a test bounds the work of an occurrence scan by counting instead of by the clock.
 */
export function countCronSteps<T>(fn: () => T): { result: T; steps: number } {
  const proto = CronExpression.prototype;
  const { next, prev } = proto;
  let steps = 0;
  proto.next = function (this: CronExpression) {
    steps++;
    return next.call(this);
  };
  proto.prev = function (this: CronExpression) {
    steps++;
    return prev.call(this);
  };
  try {
    return { result: fn(), steps };
  } finally {
    proto.next = next;
    proto.prev = prev;
  }
}
