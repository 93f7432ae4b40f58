import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ExecuteRequest, ExecuteResponse } from '../wit-types/interfaces/alga-extension-types.js';
import { FLAG_REPLIED, type ExecuteJob, type HostCallMessage, type HostOutcome, type WorkerToMain } from './protocol.js';

/** Answers one guest import call; must not throw (the dispatcher maps failures to WIT values). */
export type HostCallHandler = (iface: string, fn: string, args: unknown[], signal: AbortSignal) => Promise<HostOutcome>;

export interface SandboxRun {
  hash: string;
  glueDir: string;
  modules: Record<string, WebAssembly.Module>;
  request: ExecuteRequest;
  clockOffsetMs?: number;
  timeoutMs?: number;
  onHostCall: HostCallHandler;
}

export type SandboxResult =
  | { ok: true; response: ExecuteResponse }
  | { ok: false; reason: 'trap' | 'timeout' | 'crashed' | 'busy'; message: string };

export interface SandboxPoolOptions {
  /** Executions in parallel (one worker each); default: the number of cores. */
  size?: number;
  /** Executions allowed to wait for a worker before callers get `busy`. */
  maxQueue?: number;
}

interface Slot {
  worker: Worker;
  bridge: MessagePort;
  flag: Int32Array;
  ready: Promise<void>;
  job?: ActiveJob;
}

interface ActiveJob {
  id: number;
  run: SandboxRun;
  abort: AbortController;
  timer?: NodeJS.Timeout;
  resolve(r: SandboxResult): void;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** A fixed set of sandbox workers; each runs one execution at a time in a fresh instance. */
export class SandboxPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly slots: Slot[] = [];
  private readonly queue: ActiveJob[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: SandboxPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism());
    this.maxQueue = opts.maxQueue ?? 256;
  }

  run(run: SandboxRun): Promise<SandboxResult> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'crashed', message: 'runner is shutting down' });
    return new Promise((resolve) => {
      const job: ActiveJob = { id: this.nextId++, run, abort: new AbortController(), resolve };
      const slot = this.freeSlot();
      if (slot) this.start(slot, job);
      else if (this.queue.length >= this.maxQueue) resolve({ ok: false, reason: 'busy', message: 'runner busy: execution queue is full' });
      else this.queue.push(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, reason: 'crashed', message: 'runner is shutting down' });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
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
    const flagBuffer = new SharedArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_URL, { workerData: { flag: flagBuffer, bridge: port2 }, transferList: [port2] });
    worker.unref();
    let markReady!: () => void;
    const slot: Slot = { worker, bridge: port1, flag: new Int32Array(flagBuffer), ready: new Promise((r) => (markReady = r)) };
    worker.on('message', (msg: WorkerToMain) => {
      if (msg.type === 'ready') return markReady();
      const job = slot.job;
      if (!job || job.id !== msg.jobId) return;
      this.finish(slot, job, msg.type === 'done' ? { ok: true, response: msg.response } : { ok: false, reason: 'trap', message: msg.message });
    });
    worker.on('error', (err) => this.lose(slot, `sandbox worker crashed: ${err.message}`));
    worker.on('exit', () => this.lose(slot, 'sandbox worker exited'));
    port1.on('message', (call: HostCallMessage) => void this.answer(slot, call));
    port1.unref();
    return slot;
  }

  private async answer(slot: Slot, call: HostCallMessage): Promise<void> {
    const job = slot.job;
    let outcome: HostOutcome;
    if (!job || job.id !== call.jobId) outcome = { trap: 'host call outside its execution' };
    else {
      try {
        outcome = await job.run.onHostCall(call.iface, call.fn, call.args, job.abort.signal);
      } catch (err) {
        outcome = { trap: `host error in ${call.iface}#${call.fn}: ${(err as Error).message}` };
      }
    }
    if (slot.job !== job) return; // timed out meanwhile: the worker is gone
    slot.bridge.postMessage(outcome);
    Atomics.store(slot.flag, 0, FLAG_REPLIED);
    Atomics.notify(slot.flag, 0);
  }

  private start(slot: Slot, job: ActiveJob): void {
    slot.job = job;
    const { run } = job;
    if (run.timeoutMs !== undefined && run.timeoutMs > 0) {
      job.timer = setTimeout(() => this.timeout(slot, job), run.timeoutMs);
    }
    const msg: ExecuteJob = {
      type: 'execute',
      jobId: job.id,
      hash: run.hash,
      glueDir: run.glueDir,
      modules: run.modules,
      request: run.request,
      clockOffsetMs: run.clockOffsetMs ?? 0,
    };
    void slot.ready.then(() => {
      if (slot.job === job) slot.worker.postMessage(msg);
    });
  }

  private finish(slot: Slot, job: ActiveJob, result: SandboxResult): void {
    if (job.timer) clearTimeout(job.timer);
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

  /** A guest past its deadline: cancel its host call in flight and replace the worker. */
  private timeout(slot: Slot, job: ActiveJob): void {
    if (slot.job !== job) return;
    job.abort.abort(new Error('execution timed out'));
    this.retire(slot);
    slot.job = undefined;
    job.resolve({ ok: false, reason: 'timeout', message: `timeout: execution exceeded ${job.run.timeoutMs} ms` });
    this.drain();
  }

  private lose(slot: Slot, message: string): void {
    if (!this.slots.includes(slot)) return;
    this.retire(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      if (job.timer) clearTimeout(job.timer);
      job.abort.abort(new Error(message));
      job.resolve({ ok: false, reason: 'crashed', message });
    }
    if (!this.closed) this.drain();
  }

  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.bridge.close();
    void slot.worker.terminate();
  }
}
