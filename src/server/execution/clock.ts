/**
 * The time the scheduler runs on. Production uses the wall clock; tests and local development use a
 * manual clock they advance, so "the next every-5-minutes occurrence fired" is asserted without waiting minutes.
 * The same clock drives what the guest sees (the in-process runner's `clockOffsetMs`).
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ManualClock extends Clock {
  set(at: Date | string | number): void;
  advance(ms: number): Date;
}

/** @example const clock = createManualClock('2026-03-08T06:58:00Z'); clock.advance(5 * 60_000); */
export function createManualClock(start: Date | string | number = Date.now()): ManualClock {
  let t = new Date(start).getTime();
  if (!Number.isFinite(t)) throw new Error(`invalid clock start: ${String(start)}`);
  return {
    now: () => new Date(t),
    set(at) {
      const v = new Date(at).getTime();
      if (!Number.isFinite(v)) throw new Error(`invalid clock time: ${String(at)}`);
      t = v;
    },
    advance(ms) {
      t += ms;
      return new Date(t);
    },
  };
}

/** What the guest's wall clock is shifted by so that it reads `clock.now()`. */
export function clockOffsetMs(clock: Clock): number {
  return clock === systemClock ? 0 : clock.now().getTime() - Date.now();
}
