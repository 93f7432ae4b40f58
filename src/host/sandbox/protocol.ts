/** Messages between the runner (main thread) and a sandbox worker. */
import type { ExecuteRequest, ExecuteResponse } from '../wit-types/interfaces/alga-extension-types.js';
import type { ExecutionData } from '../interfaces/types.js';
import type { LogFields, LogLevel } from '../../shared/logger.js';
import type { CoreStateExports } from './snapshot.js';
import type { WorkerIoSpec } from '../ports.js';

/** One compiled variant of a component: its glue and its core modules, capped at `memoryMb`. */
export interface ComponentVariant {
  /** `<content hash>:<memory cap in MB>`; the worker keeps its instances by it. */
  key: string;
  /** Folder holding jco's transpiled `component.js`. */
  glueDir: string;
  /** The glue is jco's JSPI glue: the handler returns a promise, the I/O imports may suspend. */
  jspi: boolean;
  /** Compiled core modules by file name (posting a Module to a worker shares the compiled code).
   * Sent once per worker: absent when the worker already has this variant. */
  modules?: Record<string, WebAssembly.Module>;
  /** Per module file: the exports added for its mutable globals and tables (see wasm-binary.ts), and
   * for its write barrier (write-barrier.ts). */
  stateExports?: Record<string, CoreStateExports>;
}

/** Everything a worker needs to run one execution of a component. */
export interface ExecuteTask {
  type: 'execute';
  taskId: number;
  variant: ComponentVariant;
  request: ExecuteRequest;
  /** What the data-only imports answer from, in the worker (interfaces/in-guest.ts). */
  data: ExecutionData;
  /** Added to the host's clock for what the guest sees through wasi:clocks/wall-clock. */
  clockOffsetMs: number;
  /** A response whose body and headers are larger fails the execution. */
  maxResponseBytes: number;
  /** The largest request body a guest's `fetch()` (wasi:http) may write: ALGA_FETCH_MAX_BYTES. */
  maxOutgoingBodyBytes: number;
  /** With the JSPI glue: the services the worker runs the I/O imports on (ports.ts), by the pool's
   * id for the spec; the spec itself only the first time this worker is given that id
   * (worker-io-specs.ts). Absent: those imports go over the bridge to the main thread. */
  workerIo?: { id: number; spec?: WorkerIoSpec };
}

/** Get instances of a variant ready before requests for it arrive. */
export interface PrepareTask {
  type: 'prepare';
  variant: ComponentVariant;
}

/** The pool is closing: the worker closes its services (WorkerIo.close) and answers `closed`. */
export interface CloseTask {
  type: 'close';
}

/** The execution is stopped: the worker aborts its I/O imports in flight and answers `aborted` once
 * they settled (it is terminated then). */
export interface AbortTask {
  type: 'abort';
}

export type MainToWorker = ExecuteTask | PrepareTask | CloseTask | AbortTask;

/** Why an execution failed, for the runner's message. */
export type FailureKind = 'trap' | 'memory' | 'stack-overflow' | 'response-too-large' | 'instantiate';

/** The guest's host calls in one execution (answered in the worker or on the main thread), timed at
 * its import boundary (for a bridged call: post → reply), so their cost is seen where the guest pays it. */
export interface HostCallStats {
  count: number;
  ms: number;
  /** Of those, I/O imports the worker ran itself (the JSPI path), with no hop to the main thread. */
  inWorker: number;
}

export type WorkerToMain =
  | { type: 'ready' }
  /** The guest's handler is about to run: the component is loaded and instantiated (the deadline's hold ends). */
  | { type: 'started'; taskId: number }
  | { type: 'done'; taskId: number; response: ExecuteResponse; hostCalls: HostCallStats }
  | { type: 'failed'; taskId: number; kind: FailureKind; message: string; hostCalls?: HostCallStats }
  | { type: 'stdio'; taskId: number; stream: 'stdout' | 'stderr'; line: string }
  /** A line the execution's logger wrote in the worker (the guest's logging import), when it did
   * not go through the line ring (line-ring.ts), as stdio lines. */
  | { type: 'log'; taskId: number; level: LogLevel; msg: string; fields?: LogFields }
  /** The line ring has lines to drain. */
  | { type: 'lines' }
  | { type: 'prepared'; key: string; error?: string }
  | { type: 'closed' }
  | { type: 'aborted' };

/** A host call from the guest, posted on the bridge port while the worker blocks. */
export interface HostCallMessage {
  /** The execution making the call; `WARMUP_TASK` for a warm-up call of a throwaway instance. */
  taskId: number;
  iface: string;
  fn: string;
  args: unknown[];
}

export const WARMUP_TASK = 0;

/** How a host function ended, as the guest must see it. */
export type HostOutcome =
  /** A value (the `ok` of a result, or a plain return). */
  | { ok: unknown }
  /** The error payload of a WIT `result` (an enum case string); the guest sees a thrown payload. */
  | { err: unknown }
  /** Deliberately trap the guest (production panics, e.g. context without its capability). */
  | { trap: string };

/** The shared words of a sandbox's bridge (Int32 indices). */
export const WORD = {
  /** The reply flag the worker waits on: FLAG_WAITING or FLAG_REPLIED. */
  reply: 0,
  /** Never written: the worker sleeps on it when it must wait without a wake-up. */
  sleep: 1,
  /** What the main thread allows the worker's wait for a reply (reply-wait.ts SPIN): whether a core is free. */
  spin: 2,
  /** How long the main thread took to answer the last call, µs (its receipt to its reply): the
   * worker spins only for functions answered within its spin last time. */
  answerUs: 3,
  /** 1 while the worker runs only to wait for a reply (posting it, spinning): the main thread's
   * reading of the machine's runnable threads leaves it out. */
  waiting: 4,
  /** I/O imports the worker is running itself (the JSPI path): a stopped execution's worker with
   * none in flight is terminated at once, one with some is told to abort them first. */
  ioInFlight: 5,
  /** 1 once the pool is stopping this worker's execution (set before it reads ioInFlight): an I/O
   * import starting after that is refused, so none begins unseen by the pool's reading. */
  stopping: 6,
} as const;
export const BRIDGE_WORDS = 7;
export const FLAG_WAITING = 0;
export const FLAG_REPLIED = 1;
