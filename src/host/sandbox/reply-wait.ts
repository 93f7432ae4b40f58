/**
 * How a sandbox worker waits for the main thread's reply to a host call. Sleeping on the flag costs
 * a wake-up when the reply comes (the main thread's notify of a sleeping thread: 60–110 µs on small
 * VMs); spinning costs a core. A reply without I/O (a refusal) comes within tens of µs, and is
 * caught by a short spin; one with I/O behind it is waited for asleep: spinning for it, or sleeping
 * for most of its last time and spinning for the rest, did not make the call faster on a 2-core
 * machine and held a core that the main thread and Postgres need (docs/sandbox.md).
 */

/** What the main thread allows, in the bridge's `spin` word. */
export const SPIN = {
  /** No core free: sleep at once. */
  none: 0,
  /** A core is free: spin for a reply that comes at once. */
  short: 1,
} as const;
export type SpinMode = (typeof SPIN)[keyof typeof SPIN];

/** A refusal or any answer without I/O comes within this. */
export const SHORT_SPIN_US = 50;

/** How long to spin for a reply, µs after the call was posted (0: sleep at once), from the main
 * thread's word and the function's last answer time (µs, the main thread's receipt to its reply;
 * undefined before its first call). */
export function replySpinUs(mode: number, lastAnswerUs: number | undefined): number {
  if (mode !== SPIN.short) return 0;
  return lastAnswerUs === undefined || lastAnswerUs <= SHORT_SPIN_US ? SHORT_SPIN_US : 0;
}
