/** Messages between the runner (main thread) and a sandbox worker. */
import type { ExecuteRequest, ExecuteResponse } from '../wit-types/interfaces/alga-extension-types.js';

/** Everything a worker needs to run one execution of a component. */
export interface ExecuteJob {
  type: 'execute';
  jobId: number;
  /** Content hash of the component; the worker caches its loaded glue by it. */
  hash: string;
  /** Folder holding jco's transpiled `component.js`. */
  glueDir: string;
  /** Compiled core modules by file name (posting a Module to a worker shares the compiled code). */
  modules: Record<string, WebAssembly.Module>;
  request: ExecuteRequest;
  /** Added to the host's clock for what the guest sees through wasi:clocks/wall-clock. */
  clockOffsetMs: number;
}

export type WorkerToMain =
  | { type: 'ready' }
  | { type: 'done'; jobId: number; response: ExecuteResponse }
  | { type: 'failed'; jobId: number; message: string };

/** A host call from the guest, posted on the bridge port while the worker blocks. */
export interface HostCallMessage {
  jobId: number;
  iface: string;
  fn: string;
  args: unknown[];
}

/** How a host function ended, as the guest must see it. */
export type HostOutcome =
  /** A value (the `ok` of a result, or a plain return). */
  | { ok: unknown }
  /** The error payload of a WIT `result` (an enum case string); the guest sees a thrown payload. */
  | { err: unknown }
  /** Deliberately trap the guest (production panics, e.g. context without its capability). */
  | { trap: string };

/** Layout of the shared flag the worker waits on: 0 = waiting, 1 = reply posted. */
export const FLAG_WAITING = 0;
export const FLAG_REPLIED = 1;
