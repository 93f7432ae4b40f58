/** The main thread's side of worker-io-thread.ts: a real worker_thread built from a WorkerIoSpec. */
import { Worker } from 'node:worker_threads';
import type { HostServices } from '../../src/host/interfaces/types.js';
import type { WorkerIoSpec } from '../../src/host/ports.js';
import type { Ask, Backend, FromThread } from './worker-io-thread.js';

export interface WorkerIoThread {
  /** The services' plain settings as the thread built them. */
  settings: Omit<HostServices, Backend>;
  call(backend: Backend, ...args: unknown[]): Promise<any>;
  /** All at once in the thread; the answers in order. */
  concurrently(backend: Backend, argsList: unknown[][]): Promise<any[]>;
  /** WorkerIo.close() in the thread. */
  close(): Promise<void>;
  terminate(): Promise<void>;
}

export async function startWorkerIo(spec: WorkerIoSpec, o: { clockOffsetMs?: number } = {}): Promise<WorkerIoThread> {
  const worker = new Worker(new URL('./worker-io-thread.js', import.meta.url), { workerData: { spec, clockOffsetMs: o.clockOffsetMs ?? 0 } });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  const failAll = (e: Error) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  const settings = await new Promise<Omit<HostServices, Backend>>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: FromThread) => ('ready' in m ? resolve(m.settings) : reject(new Error('unexpected first message'))));
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`worker exited (${code})`)));
  worker.on('message', (m: FromThread) => {
    if ('ready' in m) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(m.error));
    else w?.resolve(m.value);
  });
  const send = (msg: Ask) =>
    new Promise<any>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
  return {
    settings,
    call: async (backend, ...args) => (await send({ op: 'calls', calls: [{ backend, args }] }))[0],
    concurrently: (backend, argsList) => send({ op: 'calls', calls: argsList.map((args) => ({ backend, args })) }),
    close: () => send({ op: 'close' }),
    terminate: async () => {
      await worker.terminate();
    },
  };
}
