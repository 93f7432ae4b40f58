/**
 * Whether a core is free now, for the sandbox worker's short spin for a reply. The 1-minute load
 * average is a poor signal for it: it lags by a minute and counts our own threads (a bench's own
 * load turned the spin off). Linux reports the machine's runnable threads at this instant
 * (/proc/loadavg's fourth field, "R/T"); a reading taken as each host call arrives, with our own
 * waiting guests taken out, says whether another thread wants a core.
 */
import { openSync, readSync } from 'node:fs';

/** The running-or-runnable count of a /proc/loadavg text ("0.52 0.58 0.59 2/467 12345"). */
export function parseRunnable(text: string): number | undefined {
  const m = /^\S+ \S+ \S+ (\d+)\/\d+/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Reads the machine's runnable threads now (a few µs: one pread of a small kernel file); undefined
 * where the file does not exist (not Linux) or cannot be read. */
export function openRunnableReader(path = '/proc/loadavg'): (() => number | undefined) | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(128);
  const read = () => {
    try {
      return parseRunnable(buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)));
    } catch {
      return undefined;
    }
  };
  return read() === undefined ? undefined : read;
}

/** Readings kept, and how many of them must have had a core to spare. */
export const CORE_FREE_WINDOW = 16;
export const CORE_FREE_NEEDED = 14;

/**
 * The last CORE_FREE_WINDOW readings. A reading had a core to spare when the threads that wanted a
 * core, other than our guests running only to wait for a reply (the reading thread included: it is
 * about to work), left one core over. A core is free when CORE_FREE_NEEDED of the readings had one:
 * a reading is one instant, and a kernel thread running just then is no reason to stop.
 */
export class CoreFreeSignal {
  private readonly spare: boolean[] = [];
  private next = 0;
  private count = 0;

  constructor(private readonly cores: number) {}

  /** One reading: `runnable` threads on the machine, `waiting` of them ours, running only to wait for a reply. */
  sample(runnable: number, waiting: number): void {
    const spare = runnable - waiting < this.cores;
    if (this.spare[this.next] === true) this.count--;
    this.spare[this.next] = spare;
    if (spare) this.count++;
    this.next = (this.next + 1) % CORE_FREE_WINDOW;
  }

  get free(): boolean {
    return this.count >= CORE_FREE_NEEDED;
  }
}
