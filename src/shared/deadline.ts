/**
 * One deadline per execution (docs/sandbox.md#deadline): made once where the execution enters (a
 * `/v1/execute` request, a gateway call, a scheduled or run-now invocation, `exec`) and passed down
 * as its `signal`, so the runner, the sandbox, the host calls in flight and the invocation all stop
 * at the same instant, for the same reason.
 *
 * Our own load (fetching, transpiling and compiling a component, instantiating it in a new sandbox
 * worker) does not eat the guest's time: while it runs the deadline is held, and afterwards moved
 * later by as long as the load took, but never past `LOAD_ALLOWANCE_MS` beyond the original
 * deadline, so a caller's total wait stays bounded.
 */

/** How much later than its budget an execution may end because our load ran inside it. */
export const LOAD_ALLOWANCE_MS = 10_000;
/** What a caller waiting on another process (HTTP to a runner, the job queue's expiry) adds to the
 * latest end of an execution before it gives up on an answer. */
export const ANSWER_MARGIN_MS = 2_000;
/** The longest delay a Node (and undici) timer holds (beyond it Node warns and fires after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The reason a deadline's signal carries when the time is up. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor(readonly budgetMs: number) {
    super(`execution timed out: its deadline of ${budgetMs} ms passed`);
  }
}

/** The latest an execution of this budget can end (its budget plus the load allowance): what a
 * caller that cannot see the deadline itself (another process, the job queue) waits for, plus a margin. */
export function latestEndMs(budgetMs: number): number {
  return budgetMs + LOAD_ALLOWANCE_MS + ANSWER_MARGIN_MS;
}

const bySignal = new WeakMap<AbortSignal, Deadline>();

/** The deadline whose signal this is, when the caller passed one (in-process callers do). */
export function deadlineOf(signal: AbortSignal | undefined): Deadline | undefined {
  return signal ? bySignal.get(signal) : undefined;
}

export class Deadline {
  /** Aborts at the deadline (reason: DeadlineExceededError) or when the caller goes away (its reason). */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly startedAt = performance.now();
  /** The time the execution was given; Infinity: no deadline. */
  private budget: number;
  /** When it ends (performance.now() time), and the latest it may be moved to. */
  private at: number;
  private ceiling: number;
  private holds = 0;
  private heldSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onCaller = () => this.abort(this.caller!.reason);

  /** @param budgetMs the execution's time from now; undefined: none (only the caller can stop it). */
  constructor(budgetMs: number | undefined, private readonly caller?: AbortSignal) {
    this.budget = budgetMs ?? Infinity;
    this.at = this.startedAt + this.budget;
    this.ceiling = this.at + LOAD_ALLOWANCE_MS;
    this.signal = this.controller.signal;
    bySignal.set(this.signal, this);
    if (caller?.aborted) this.abort(caller.reason);
    else {
      caller?.addEventListener('abort', this.onCaller, { once: true });
      this.arm();
    }
  }

  /** The time the execution was given, in ms (Infinity: none). */
  get budgetMs(): number {
    return this.budget;
  }

  /** Whether it ended because the time was up (not because the caller went away). */
  get expired(): boolean {
    return this.signal.aborted && this.signal.reason instanceof DeadlineExceededError;
  }

  /** The caller's own signal: it went away (its deadline aside). */
  get callerSignal(): AbortSignal | undefined {
    return this.caller;
  }

  /** Until it ends (negative: past it and not yet stopped); while our load holds it, until its ceiling. */
  msToEnd(): number {
    return (this.holds > 0 ? this.ceiling : this.at) - performance.now();
  }

  /** Until the latest end: what a caller that cannot see this object waits for (see latestEndMs). */
  latestRemainingMs(): number {
    return Math.max(0, this.ceiling - performance.now() + ANSWER_MARGIN_MS);
  }

  /** A shorter budget (counted from the start) replaces a longer one; a longer one changes nothing. */
  tighten(budgetMs: number | undefined): void {
    if (budgetMs === undefined || budgetMs >= this.budget) return;
    this.budget = budgetMs;
    this.at = Math.min(this.at, this.startedAt + budgetMs);
    this.ceiling = Math.min(this.ceiling, this.startedAt + budgetMs + LOAD_ALLOWANCE_MS);
    this.arm();
  }

  /**
   * Our load starts: until the returned function is called the deadline waits (up to its ceiling),
   * and then it moves later by the time held.
   */
  hold(): () => void {
    if (this.holds++ === 0) {
      this.heldSince = performance.now();
      this.arm();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      this.at = Math.min(this.ceiling, this.at + (performance.now() - this.heldSince));
      this.arm();
    };
  }

  /** `p`, or the signal's reason as soon as it aborts. */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason);
      this.signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => this.signal.removeEventListener('abort', onAbort));
    });
  }

  /** The execution is over: no timer left behind. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.caller?.removeEventListener('abort', this.onCaller);
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.signal.aborted) return;
    const end = this.holds > 0 ? this.ceiling : this.at;
    if (end === Infinity) return;
    const wait = end - performance.now();
    if (wait <= 0) return this.abort(new DeadlineExceededError(this.budget));
    // Ref'd: a pending deadline is an execution in progress (dispose() clears it when it ends).
    this.timer = setTimeout(() => this.arm(), Math.min(Math.ceil(wait), MAX_TIMER_MS));
  }

  private abort(reason: unknown): void {
    if (this.signal.aborted) return;
    this.dispose();
    this.controller.abort(reason);
  }
}
