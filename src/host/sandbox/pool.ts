import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { availableParallelism, loadavg } from 'node:os';
import type { ExecuteRequest, ExecuteResponse } from '../wit-types/interfaces/alga-extension-types.js';
import {
  BRIDGE_WORDS,
  FLAG_REPLIED,
  WARMUP_TASK,
  WORD,
  type ComponentVariant,
  type ExecuteTask,
  type FailureKind,
  type HostCallMessage,
  type HostCallStats,
  type HostOutcome,
  type MainToWorker,
  type WorkerToMain,
} from './protocol.js';
import type { IsolationMode } from './ready-instances.js';
import type { GuestThreadData } from './guest-thread.js';
import { LineRing, lineRingBuffer } from './line-ring.js';
import { CoreFreeSignal, openRunnableReader } from './core-free.js';
import { SPIN, type SpinMode } from './reply-wait.js';
import type { ExecutionData } from '../interfaces/types.js';
import type { LogFields, LogLevel } from '../../shared/logger.js';
import type { Deadline } from '../../shared/deadline.js';
import type { WorkerIoSpec } from '../ports.js';
import { WorkerIoSpecs } from './worker-io-specs.js';

/** Answers one guest import call; must not throw (the dispatcher maps failures to WIT values). */
export type HostCallHandler = (iface: string, fn: string, args: unknown[], signal: AbortSignal) => Promise<HostOutcome>;

export interface SandboxRun {
  /** The compiled variant (modules included); the pool sends the modules to a worker once. */
  variant: Required<ComponentVariant>;
  request: ExecuteRequest;
  /** The execution's own data: the data-only imports answer from it in the worker. */
  data: ExecutionData;
  clockOffsetMs?: number;
  /**
   * The execution's one deadline (shared/deadline.ts). Its signal stops the execution (queued:
   * dropped; running: its worker replaced and its host call in flight aborted): at the deadline with
   * `timeout`, when the caller goes away with `cancelled`. From dispatch until the guest starts in
   * its worker (a new worker loading the component) the deadline is held: that load is ours.
   * Absent: no deadline.
   */
  deadline?: Deadline;
  maxResponseBytes: number;
  /** See ExecuteTask.maxOutgoingBodyBytes. */
  maxOutgoingBodyBytes: number;
  onHostCall: HostCallHandler;
  /** With a JSPI variant: the services the worker runs the I/O imports on (then `onHostCall` answers
   * only what stays on the bridge: wasi:http). */
  workerIo?: WorkerIoSpec;
  /** A line the guest wrote to stdout/stderr during this execution. */
  onGuestOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** A line the execution's logger wrote in the worker (the guest's logging import, a host function's failure). */
  onLog?: (level: LogLevel, msg: string, fields?: LogFields) => void;
}

export type SandboxFailure = FailureKind | 'timeout' | 'crashed' | 'busy' | 'cancelled';

export type SandboxResult = ({ ok: true; response: ExecuteResponse } | { ok: false; reason: SandboxFailure; message: string }) & {
  hostCalls?: HostCallStats;
};

export interface SandboxPoolOptions {
  /** Executions in parallel (one worker each); default: the number of cores. */
  size?: number;
  /** Executions allowed to wait for a worker before callers get `busy`. */
  maxQueue?: number;
  isolation?: IsolationMode;
  /** Answers host calls of warm-up executions (no request behind them); default: a trap. */
  warmupHostCall?: (iface: string, fn: string, args: unknown[]) => Promise<HostOutcome>;
  /** The clock deadlines are read on (performance.now() time); tests move it. */
  now?: () => number;
}

export interface SandboxPoolStats {
  workers: number;
  /** Sandboxes running an execution. */
  busy: number;
  /** Executions waiting for a sandbox. */
  queued: number;
  /** Running executions past their deadline: a stop that has not happened (readiness counts them). */
  overdue: number;
  /** Host calls this thread has answered over the bridges, warm-ups included, since the pool started. */
  bridgedHostCalls: number;
}

interface Slot {
  worker: Worker;
  bridge: MessagePort;
  flag: Int32Array;
  ready: Promise<void>;
  /** Variant keys whose modules this worker has received. */
  known: Set<string>;
  job?: ActiveJob;
  prepared: Map<string, () => void>;
  /** The worker's lines (line-ring.ts), and the drain scheduled after its nudge. */
  lines: LineRing;
  linesTimer?: NodeJS.Timeout;
  /** The worker has been given a WorkerIoSpec: on close it closes its services first. */
  hasIo: boolean;
  /** Ids (WorkerIoSpecs) of the specs this worker has been sent. */
  ioSpecs: Set<number>;
  /** Resolves when the worker has answered `closed`. */
  onClosed?: () => void;
  /** The worker has aborted its I/O in flight (`aborted`). */
  onAborted?: () => void;
}

interface ActiveJob {
  id: number;
  run: SandboxRun;
  abort: AbortController;
  /** Ends the deadline's hold once the guest has started (see SandboxRun.deadline). */
  releaseHold?: () => void;
  /** How far the pool's clock was ahead of the deadline's when it took its sandbox (stats().overdue). */
  aheadAtStart: number;
  resolve(r: SandboxResult): void;
}

const CANCELLED: SandboxResult = { ok: false, reason: 'cancelled', message: 'cancelled: the caller went away; the guest was stopped' };

/** What an execution whose deadline's signal fired ends with: `timeout` at the deadline, else `cancelled`. */
export function stoppedResult(deadline: Deadline | undefined): SandboxResult {
  if (!deadline?.expired) return CANCELLED;
  return { ok: false, reason: 'timeout', message: `timeout: execution exceeded ${deadline.budgetMs} ms and was stopped` };
}

const WORKER_URL = new URL('./guest-thread.js', import.meta.url);
const ANSWER_US_MAX = 2 ** 31 - 1;
/** The worker's spin for a reply takes a core: only while another core is free for it, among our
 * guests and on the machine (core-free.ts; where the machine cannot say, its 1-minute load average
 * at most the cores). */
const CORES = availableParallelism();
const readRunnable = openRunnableReader();
const coreSignal = new CoreFreeSignal(CORES);
let loadRead = { at: -Infinity, value: 0 };
/** The machine's 1-minute load average (it counts runnable threads, ours too), read at most once a second. */
function machineLoad(): number {
  const now = performance.now();
  if (now - loadRead.at > 1000) loadRead = { at: now, value: loadavg()[0] ?? 0 };
  return loadRead.value;
}
/** How long after a worker's nudge its lines are drained (line-ring.ts): they all reach the logger
 * before the execution's end is handled, whenever it comes. */
const LINES_DRAIN_MS = 5;
/** How long closing waits for a worker to close its services. */
const CLOSE_WAIT_MS = 2000;
/** How long a stopped execution's worker is given to abort its I/O in flight before it is terminated
 * (the guest is already off the request path; a guest in a loop has no I/O in flight). */
const ABORT_WAIT_MS = 2000;
/** Variants a replacement worker is prepared with (the most recently used ones). */
const RECENT_VARIANTS = 4;

/** A fixed set of sandbox workers; each runs one execution at a time on fresh guest state. */
export class SandboxPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly isolation: IsolationMode;
  private readonly slots: Slot[] = [];
  private readonly queue: ActiveJob[] = [];
  private readonly recent = new Map<string, Required<ComponentVariant>>();
  private readonly workerIoSpecs = new WorkerIoSpecs();
  private nextId = WARMUP_TASK + 1;
  private closed = false;
  private bridged = 0;

  constructor(private readonly opts: SandboxPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism());
    this.maxQueue = Math.max(0, opts.maxQueue ?? 256);
    this.isolation = opts.isolation ?? 'snapshot';
  }

  run(run: SandboxRun): Promise<SandboxResult> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'crashed', message: 'runner is shutting down' });
    const signal = run.deadline?.signal;
    if (signal?.aborted) return Promise.resolve(stoppedResult(run.deadline));
    this.remember(run.variant);
    return this.holding(new Promise((resolve) => {
      const onAbort = () => this.cancel(job);
      const job: ActiveJob = {
        id: this.nextId++,
        run,
        abort: new AbortController(),
        aheadAtStart: 0,
        resolve: (r) => {
          job.releaseHold?.();
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const slot = this.freeSlot();
      if (slot) this.start(slot, job);
      else if (this.queue.length >= this.maxQueue) {
        resolve({ ok: false, reason: 'busy', message: `all ${this.size} sandboxes are busy and ${this.queue.length} executions are waiting` });
      } else this.queue.push(job);
    }));
  }

  /**
   * Workers and their ports never hold the process open (an idle runner must not keep a test
   * process alive); while an execution or a prepare is in flight, one ref'd timer does.
   */
  private busy = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  private holding<T>(p: Promise<T>): Promise<T> {
    if (this.busy++ === 0) this.keepAlive = setInterval(() => {}, 2 ** 30);
    return p.finally(() => {
      if (--this.busy === 0) clearInterval(this.keepAlive);
    });
  }

  /** Starts every worker and has each one instantiate the variant before requests arrive. */
  async prepare(variant: Required<ComponentVariant>): Promise<void> {
    if (this.closed) return;
    this.remember(variant);
    while (this.slots.length < this.size) this.slots.push(this.spawn());
    await this.holding(Promise.all(this.slots.map((s) => this.prepareSlot(s, variant))));
  }

  /** What the pool is doing now: workers, those running an execution, executions waiting. */
  stats(): SandboxPoolStats {
    // The deadline's own clock is performance.now(); tests move the pool's ahead of it after a job started.
    const ahead = this.now() - performance.now();
    const running = this.slots.filter((s) => s.job);
    const overdue = running.filter((s) => (s.job!.run.deadline?.msToEnd() ?? Infinity) < ahead - s.job!.aheadAtStart).length;
    return { workers: this.slots.length, busy: running.length, queued: this.queue.length, overdue, bridgedHostCalls: this.bridged };
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, reason: 'crashed', message: 'runner is shutting down' });
    // A worker with services ends their connections first (bounded: a guest in a loop never answers).
    await Promise.all(this.slots.map(async (s) => {
      if (s.hasIo) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, CLOSE_WAIT_MS);
          s.onClosed = () => {
            clearTimeout(timer);
            resolve();
          };
          s.worker.postMessage({ type: 'close' } satisfies MainToWorker);
        });
      }
      await s.worker.terminate();
    }));
    this.slots.length = 0;
  }

  private remember(variant: Required<ComponentVariant>): void {
    this.recent.delete(variant.key);
    this.recent.set(variant.key, variant);
    if (this.recent.size > RECENT_VARIANTS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** What to post for a variant: its modules only the first time this worker sees it. */
  private variantFor(slot: Slot, variant: Required<ComponentVariant>): ComponentVariant {
    if (slot.known.has(variant.key)) return { key: variant.key, glueDir: variant.glueDir, jspi: variant.jspi };
    slot.known.add(variant.key);
    return variant;
  }

  private prepareSlot(slot: Slot, variant: Required<ComponentVariant>): Promise<void> {
    return new Promise((resolve) => {
      const prev = slot.prepared.get(variant.key);
      slot.prepared.set(variant.key, () => {
        prev?.();
        resolve();
      });
      const msg: MainToWorker = { type: 'prepare', variant: this.variantFor(slot, variant) };
      void slot.ready.then(() => slot.worker.postMessage(msg));
    });
  }

  private freeSlot(): Slot | undefined {
    const idle = this.slots.find((s) => !s.job);
    if (idle) return idle;
    if (this.slots.length < this.size) {
      const slot = this.spawn();
      this.slots.push(slot);
      return slot;
    }
    return undefined;
  }

  private spawn(): Slot {
    const flagBuffer = new SharedArrayBuffer(BRIDGE_WORDS * Int32Array.BYTES_PER_ELEMENT);
    const { port1, port2 } = new MessageChannel();
    const linesBuffer = lineRingBuffer();
    const workerData: GuestThreadData = { flag: flagBuffer, bridge: port2, isolation: this.isolation, lines: linesBuffer };
    const worker = new Worker(WORKER_URL, { workerData, transferList: [port2] });
    let markReady!: () => void;
    const slot: Slot = {
      worker,
      bridge: port1,
      flag: new Int32Array(flagBuffer),
      ready: new Promise((r) => (markReady = r)),
      known: new Set(),
      prepared: new Map(),
      lines: new LineRing(linesBuffer),
      hasIo: false,
      ioSpecs: new Set(),
    };
    worker.on('message', (msg: WorkerToMain) => this.onMessage(slot, msg, markReady));
    worker.on('error', (err) => this.lose(slot, `sandbox worker crashed: ${err.message}`));
    worker.on('exit', () => this.lose(slot, 'sandbox worker exited'));
    port1.on('message', (call: HostCallMessage) => void this.answer(slot, call));
    // After the listeners: adding a 'message' listener refs the worker's port again (see holding()).
    worker.unref();
    port1.unref();
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerToMain, markReady: () => void): void {
    if (msg.type === 'lines') return this.drainLinesSoon(slot);
    this.drainLines(slot); // the lines written before this message come first
    if (msg.type === 'ready') return markReady();
    if (msg.type === 'closed') return slot.onClosed?.();
    if (msg.type === 'aborted') return slot.onAborted?.();
    if (msg.type === 'prepared') {
      const done = slot.prepared.get(msg.key);
      slot.prepared.delete(msg.key);
      return done?.();
    }
    const job = slot.job;
    if (!job || job.id !== msg.taskId) return;
    if (msg.type === 'started') return job.releaseHold?.();
    if (msg.type === 'stdio') return job.run.onGuestOutput?.(msg.stream, msg.line);
    if (msg.type === 'log') return job.run.onLog?.(msg.level, msg.msg, msg.fields);
    this.finish(
      slot,
      job,
      msg.type === 'done'
        ? { ok: true, response: msg.response, hostCalls: msg.hostCalls }
        : { ok: false, reason: msg.kind, message: msg.message, hostCalls: msg.hostCalls },
    );
  }

  /** Hands the lines the worker has written to its execution (those of an execution already over are dropped). */
  private drainLines(slot: Slot): void {
    for (const line of slot.lines.drain()) {
      const job = slot.job;
      if (!job || job.id !== line.taskId) continue;
      if (line.kind === 'log') job.run.onLog?.(line.level, line.msg, line.fields);
      else job.run.onGuestOutput?.(line.stream, line.line);
    }
  }

  /** Lines are drained a little after the worker's nudge, so that one wake-up of this thread takes
   * many of them (draining at once took about one line per nudge: the guest writes a line every few µs). */
  private drainLinesSoon(slot: Slot): void {
    if (slot.linesTimer) return;
    slot.linesTimer = setTimeout(() => {
      slot.linesTimer = undefined;
      this.drainLines(slot);
    }, LINES_DRAIN_MS);
    slot.linesTimer.unref();
  }

  private async answer(slot: Slot, call: HostCallMessage): Promise<void> {
    this.drainLines(slot); // the guest's lines before its call, before the call's own
    const received = performance.now();
    this.bridged++;
    this.readCores();
    const job = slot.job;
    let outcome: HostOutcome;
    if (call.taskId === WARMUP_TASK) {
      outcome = this.opts.warmupHostCall ? await this.opts.warmupHostCall(call.iface, call.fn, call.args).catch(() => ({ trap: 'warm-up' })) : { trap: 'warm-up: no host' };
      if (!this.slots.includes(slot)) return;
    } else if (!job || job.id !== call.taskId) outcome = { trap: 'host call outside its execution' };
    else {
      try {
        outcome = await job.run.onHostCall(call.iface, call.fn, call.args, job.abort.signal);
      } catch (err) {
        outcome = { trap: `host error in ${call.iface}#${call.fn}: ${(err as Error).message}` };
      }
      if (slot.job !== job) return; // timed out meanwhile: the worker is gone
    }
    const spin = this.spinMode();
    slot.bridge.postMessage(outcome);
    Atomics.store(slot.flag, WORD.spin, spin); // for the guest's next call
    Atomics.store(slot.flag, WORD.answerUs, Math.min(ANSWER_US_MAX, Math.round((performance.now() - received) * 1000)));
    Atomics.store(slot.flag, WORD.reply, FLAG_REPLIED);
    Atomics.notify(slot.flag, WORD.reply);
  }

  /** Whether a core is free for the guest's short spin for its reply: fewer of our guests running
   * than cores, and a core free on the machine now (core-free.ts), or where the machine cannot say,
   * its load average at most the cores. */
  private spinMode(): SpinMode {
    const running = this.slots.filter((s) => s.job).length;
    const free = readRunnable ? coreSignal.free : machineLoad() <= CORES;
    return running < CORES && free ? SPIN.short : SPIN.none;
  }

  /** A reading of the machine's runnable threads, taken as a call arrives: this thread is about to
   * work, its guest waits (asleep, or running only to wait: left out), and the host work has not begun. */
  private readCores(): void {
    const runnable = readRunnable?.();
    if (runnable === undefined) return;
    let waiting = 0;
    for (const s of this.slots) waiting += Atomics.load(s.flag, WORD.waiting);
    coreSignal.sample(runnable, waiting);
  }

  /** The task's reference to its spec: the spec itself only the first time this worker sees it. */
  private workerIoFor(slot: Slot, spec: WorkerIoSpec): { id: number; spec?: WorkerIoSpec } {
    const id = this.workerIoSpecs.idOf(spec);
    if (slot.ioSpecs.has(id)) return { id };
    slot.ioSpecs.add(id);
    return { id, spec };
  }

  private start(slot: Slot, job: ActiveJob): void {
    slot.job = job;
    const { run } = job;
    const msg: ExecuteTask = {
      type: 'execute',
      taskId: job.id,
      variant: this.variantFor(slot, run.variant),
      request: run.request,
      data: run.data,
      clockOffsetMs: run.clockOffsetMs ?? 0,
      maxResponseBytes: run.maxResponseBytes,
      maxOutgoingBodyBytes: run.maxOutgoingBodyBytes,
      ...(run.workerIo && run.variant.jspi ? { workerIo: this.workerIoFor(slot, run.workerIo) } : {}),
    };
    if (msg.workerIo) slot.hasIo = true;
    // The wait for a free sandbox counts against the deadline; getting the guest started in this
    // worker (its thread starting, the component loading) is ours and does not.
    job.releaseHold = run.deadline?.hold();
    job.aheadAtStart = this.now() - performance.now();
    void slot.ready.then(() => {
      if (slot.job !== job) return;
      this.readCores();
      Atomics.store(slot.flag, WORD.spin, this.spinMode());
      slot.worker.postMessage(msg);
    });
  }

  private finish(slot: Slot, job: ActiveJob, result: SandboxResult): void {
    slot.job = undefined;
    job.resolve(result);
    this.drain();
  }

  private drain(): void {
    while (this.queue.length) {
      const slot = this.freeSlot();
      if (!slot) return;
      this.start(slot, this.queue.shift()!);
    }
  }

  /** The deadline's signal fired (the time is up, or the caller went away): a waiting execution
   * leaves the queue, a running one is stopped. */
  private cancel(job: ActiveJob): void {
    const result = stoppedResult(job.run.deadline);
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.resolve(result);
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    // The host call in flight sees the same reason: the deadline's, or the caller's going away.
    const why = job.run.deadline?.expired ? job.run.deadline.signal.reason : new Error('the caller went away');
    if (slot) this.stop(slot, job, why, result);
  }

  /** Stops a running execution: its host call in flight is aborted (`why`), its worker replaced. */
  private stop(slot: Slot, job: ActiveJob, why: unknown, result: SandboxResult): void {
    if (slot.job !== job) return;
    this.drainLines(slot); // what the guest wrote before it was stopped
    job.abort.abort(why);
    this.retire(slot, true);
    slot.job = undefined;
    job.resolve(result);
    this.replace();
    this.drain();
  }

  private lose(slot: Slot, message: string): void {
    if (!this.slots.includes(slot)) return;
    this.drainLines(slot);
    this.retire(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      job.abort.abort(new Error(message));
      job.resolve({ ok: false, reason: 'crashed', message });
    }
    if (!this.closed) {
      this.replace();
      this.drain();
    }
  }

  /** A new worker in place of a retired one, with the recent components ready in it. */
  private replace(): void {
    if (this.closed || this.slots.length >= this.size) return;
    const slot = this.spawn();
    this.slots.push(slot);
    for (const variant of this.recent.values()) void this.prepareSlot(slot, variant);
  }

  /** `stopping`: an execution is being stopped. A worker running I/O imports itself first aborts the
   * one in flight (its Postgres statement is cancelled on the server, its transaction rolled back:
   * a terminated thread's socket alone goes unnoticed by a backend waiting on a lock), then goes. */
  private retire(slot: Slot, stopping = false): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const done of slot.prepared.values()) done();
    slot.prepared.clear();
    slot.bridge.close();
    clearTimeout(slot.linesTimer);
    Atomics.store(slot.flag, WORD.stopping, 1); // before the reading of ioInFlight (callInWorker)
    // A guest running (in a loop, say) has no I/O in flight and could not take the message anyway.
    if (!stopping || !slot.hasIo || Atomics.load(slot.flag, WORD.ioInFlight) === 0) {
      void slot.worker.terminate();
      return;
    }
    const timer = setTimeout(() => void slot.worker.terminate(), ABORT_WAIT_MS);
    timer.unref(); // a stopping worker must not hold the process open
    slot.onAborted = () => {
      clearTimeout(timer);
      void slot.worker.terminate();
    };
    slot.worker.postMessage({ type: 'abort' } satisfies MainToWorker);
  }
}
