/**
 * Sandbox worker: runs guest components on its own thread. The guest calls its imports
 * synchronously, while the host's work (Postgres, HTTP) is async on the main thread; so each
 * import posts the call on the bridge port and blocks on a shared flag (Atomics.wait) until the
 * main thread replies. Blocking a worker is what makes that safe, and a stuck guest can be
 * stopped by terminating the worker.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import * as wasi from '@bytecodealliance/preview2-shim';
import { WORLD_IMPORTS } from '../world.js';
import { FLAG_REPLIED, FLAG_WAITING, type ExecuteJob, type HostCallMessage, type HostOutcome, type WorkerToMain } from './protocol.js';
import type { ExecuteRequest, ExecuteResponse } from '../wit-types/interfaces/alga-extension-types.js';

interface WorkerData {
  flag: SharedArrayBuffer;
  bridge: MessagePort;
}

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (m: WebAssembly.Module, i: WebAssembly.Imports) => WebAssembly.Instance,
) => { handler(req: ExecuteRequest): ExecuteResponse };

const { flag: flagBuffer, bridge } = workerData as WorkerData;
const flag = new Int32Array(flagBuffer);
const port = parentPort!;

const glueByHash = new Map<string, Instantiate>();
let currentJob = 0;
let clockOffsetMs = 0;

function callHost(iface: string, fn: string, args: unknown[]): unknown {
  Atomics.store(flag, 0, FLAG_WAITING);
  const msg: HostCallMessage = { jobId: currentJob, iface, fn, args };
  bridge.postMessage(msg);
  Atomics.wait(flag, 0, FLAG_WAITING);
  let reply = receiveMessageOnPort(bridge) as { message: HostOutcome } | undefined;
  // The flag can flip a moment before the message is visible on this side: poll briefly.
  while (!reply) {
    Atomics.wait(flag, 1, 0, 1);
    reply = receiveMessageOnPort(bridge) as { message: HostOutcome } | undefined;
  }
  const outcome = reply.message;
  if ('ok' in outcome) return outcome.ok;
  if ('err' in outcome) throw outcome.err; // jco lowers a thrown bare payload into result::err
  throw new Error(outcome.trap); // a thrown Error traps the guest, deliberately
}

/** The guest's alga:extension imports: every function of the world, each a bridge call. */
function algaImports(): Record<string, Record<string, (...args: unknown[]) => unknown>> {
  const out: Record<string, Record<string, (...args: unknown[]) => unknown>> = {};
  for (const [iface, fns] of Object.entries(WORLD_IMPORTS)) {
    const obj: Record<string, (...args: unknown[]) => unknown> = {};
    for (const fn of fns) obj[fn] = (...args: unknown[]) => callHost(iface, fn, args);
    out[iface] = obj;
  }
  return out;
}
const ALGA = algaImports();

/** WASI with a closed sandbox: no files, no environment, no network; the wall clock can be shifted. */
function wasiImports(): Record<string, unknown> {
  const wallClock = {
    resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    now: () => {
      const ms = Date.now() + clockOffsetMs;
      return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
    },
  };
  const shim = new WASIShim({
    clocks: { monotonicClock: wasi.clocks.monotonicClock, wallClock },
    sandbox: { preopens: {}, env: {}, args: ['extension'], enableNetwork: false },
  } as ConstructorParameters<typeof WASIShim>[0]);
  return shim.getImportObject() as Record<string, unknown>;
}
const WASI = wasiImports();

async function loadGlue(job: ExecuteJob): Promise<Instantiate> {
  let inst = glueByHash.get(job.hash);
  if (!inst) {
    const mod = (await import(pathToFileURL(join(job.glueDir, 'component.js')).href)) as { instantiate: Instantiate };
    inst = mod.instantiate;
    glueByHash.set(job.hash, inst);
  }
  return inst;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

async function run(job: ExecuteJob): Promise<WorkerToMain> {
  currentJob = job.jobId;
  clockOffsetMs = job.clockOffsetMs;
  try {
    const instantiate = await loadGlue(job);
    const getCoreModule = (name: string) => {
      const m = job.modules[name];
      if (!m) throw new Error(`core module ${name} missing`);
      return m;
    };
    // A fresh instance for every execution: nothing the guest keeps survives to the next one.
    const instance = instantiate(getCoreModule, { ...WASI, ...ALGA }, (m, i) => new WebAssembly.Instance(m, i));
    const response = instance.handler(job.request);
    return { type: 'done', jobId: job.jobId, response };
  } catch (err) {
    return { type: 'failed', jobId: job.jobId, message: describe(err) };
  }
}

port.on('message', (job: ExecuteJob) => {
  void run(job).then((msg) => port.postMessage(msg));
});
port.postMessage({ type: 'ready' } satisfies WorkerToMain);
