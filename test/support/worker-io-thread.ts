/**
 * A worker thread that does what a sandbox worker does with a WorkerIoSpec: imports the spec's
 * module by its URL, builds its services with the spec's options on a shifted clock, and calls them
 * as the main thread asks (several calls of one message run concurrently).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostServices } from '../../src/host/interfaces/types.js';
import type { WorkerIoFactory, WorkerIoSpec } from '../../src/host/ports.js';
import { silentLogger } from '../../src/shared/logger.js';

export type Backend = 'scheduler' | 'storage' | 'platformApi';
export type Ask = { op: 'calls'; calls: { backend: Backend; args: unknown[] }[] } | { op: 'close' };
export type ToThread = Ask & { id: number };
export type FromThread = { ready: true; settings: Omit<HostServices, Backend> } | { id: number; value?: unknown; error?: string };

const { spec, clockOffsetMs } = workerData as { spec: WorkerIoSpec; clockOffsetMs: number };
const port = parentPort!;
const { createWorkerIo } = (await import(spec.module)) as { createWorkerIo: WorkerIoFactory };
const io = await createWorkerIo(spec.options, { now: () => new Date(Date.now() + clockOffsetMs), logger: silentLogger });
const { scheduler, storage, platformApi, ...settings } = io.services;
const backends = { scheduler, storage, platformApi } as Record<Backend, { call(...args: unknown[]): Promise<unknown> } | undefined>;
port.postMessage({ ready: true, settings } satisfies FromThread);

port.on('message', async (m: ToThread) => {
  try {
    const value = m.op === 'close' ? await io.close() : await Promise.all(m.calls.map((c) => backends[c.backend]!.call(...c.args)));
    io.flush?.(); // as a sandbox worker does when an execution ends
    port.postMessage({ id: m.id, value } satisfies FromThread);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error)?.stack ?? String(e) } satisfies FromThread);
  }
});
