/**
 * Sandbox worker: runs guest components on its own thread. Imports answered from the execution's
 * own data (interfaces/in-guest.ts) run right here, synchronously, on the data that came with the
 * task. The others do I/O. With jco's JSPI glue and a task that carries a `WorkerIoSpec`, they run
 * here too, async, on this worker's own services for that spec: the import suspends the guest until
 * the host function settles. Otherwise such an import posts the call on the bridge port and blocks
 * on a shared flag (Atomics.wait) until the main thread replies. Either way a stuck guest is stopped
 * by terminating the worker. Instances come from `ReadyInstances` (fresh state for every execution,
 * instantiated ahead of requests).
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { withOutgoingHttp } from './wasi-http.js';
import * as wasi from '@bytecodealliance/preview2-shim';
import { WORLD_IMPORTS, type InterfaceName } from '../world.js';
import { IN_GUEST_INTERFACES } from '../interfaces/in-guest.js';
import type { ExecutionData, InGuestContext, InGuestInterface } from '../interfaces/types.js';
import type { Logger, LogFields, LogLevel } from '../../shared/logger.js';
import { WARMUP_DATA } from './warmup-data.js';
import { GuestStdio, type LineSink } from './guest-stdio.js';
import { LineRing, LineSender, type RingLine } from './line-ring.js';
import {
  FLAG_WAITING,
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
import { ReadyInstances, type GuestExports, type IsolationMode } from './ready-instances.js';
import { CoreInstantiation, trackSuspending } from './snapshot.js';
import { replySpinUs } from './reply-wait.js';
import type { WorkerIo, WorkerIoEnv, WorkerIoFactory, WorkerIoSpec } from '../ports.js';
import type { HostCallHandler } from './pool.js';
import type { ExecuteRequest, ExecuteResponse } from '../wit-types/interfaces/alga-extension-types.js';

export interface GuestThreadData {
  flag: SharedArrayBuffer;
  bridge: MessagePort;
  isolation: IsolationMode;
  /** The execution's lines to the main thread (line-ring.ts). */
  lines: SharedArrayBuffer;
}

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (m: WebAssembly.Module, i: WebAssembly.Imports) => { exports: WebAssembly.Exports },
) => GuestExports;

const { flag: flagBuffer, bridge, isolation, lines } = workerData as GuestThreadData;
const flag = new Int32Array(flagBuffer);
const port = parentPort!;
const post = (msg: WorkerToMain) => port.postMessage(msg);
const lineSender = new LineSender(new LineRing(lines), (line) =>
  post(
    line === 'nudge'
      ? { type: 'lines' }
      : line.kind === 'log'
        ? { type: 'log', taskId: line.taskId, level: line.level, msg: line.msg, fields: line.fields }
        : { type: 'stdio', taskId: line.taskId, stream: line.stream, line: line.line },
  ),
);
const emitLine = (line: RingLine) => lineSender.send(line);

// One piece of work at a time (a message, a refill of ready instances): an execution never overlaps
// another, nor an async warm-up, in this thread.
let chain: Promise<void> = Promise.resolve();
const instances = new ReadyInstances(isolation, (work) => {
  chain = chain.then(work);
});
const loading = new Map<string, Promise<void>>();
let currentTask = WARMUP_TASK;
let clockOffsetMs = 0;
/** The current execution's bound on a request body its `fetch()` writes (0 outside one: no body). */
let outgoingBodyMax = 0;
const dropLines: LineSink = () => {};
const stdio = new GuestStdio(dropLines);

let hostCalls: HostCallStats = { count: 0, ms: 0, inWorker: 0 };

// Before any glue runs: the write barrier must see through the JSPI glue's Suspending imports.
trackSuspending();

/** Where the I/O imports of the execution in progress run in this worker (JSPI glue only);
 * undefined: over the bridge. */
interface InWorkerIo {
  dispatch: HostCallHandler;
  signal: AbortSignal;
}
let currentIo: InWorkerIo | undefined;
/** The execution's abort: fired when the pool stops it (`abort`) or when it ends. */
let currentAbort: AbortController | undefined;
/** The services of the execution in progress (none on the bridge). */
let currentServices: WorkerIo | undefined;
/** I/O imports in flight in this worker. */
const inFlight = new Set<Promise<HostOutcome>>();

type Dispatch = typeof import('../import-dispatch.js');
let dispatchModule: Promise<Dispatch> | undefined;
/** The host interfaces, loaded only by a worker that runs I/O imports itself. */
const hostInterfaces = () =>
  (dispatchModule ??= import('../import-dispatch.js').catch((err: unknown) => {
    dispatchModule = undefined; // a failed load is tried again by the next execution
    throw err;
  }));
let warmupIo: InWorkerIo | undefined;

/** An I/O import run here: the same interface code, capability checks and WIT values as on the
 * main thread (import-dispatch.ts); the guest is suspended until it settles. */
async function callInWorker(io: InWorkerIo, iface: string, fn: string, args: unknown[]): Promise<unknown> {
  const started = performance.now();
  let outcome: HostOutcome;
  Atomics.add(flag, WORD.ioInFlight, 1);
  // Stopped: an I/O import begun now would run unseen by the pool (terminated at once) or after its
  // abort (the guest resumed from the aborted one), its write landing after the stop was reported.
  if (io.signal.aborted || Atomics.load(flag, WORD.stopping) !== 0) {
    Atomics.sub(flag, WORD.ioInFlight, 1);
    throw new Error('the execution was stopped');
  }
  const call = io.dispatch(iface, fn, args, io.signal);
  inFlight.add(call);
  try {
    outcome = await call;
  } finally {
    inFlight.delete(call);
    Atomics.sub(flag, WORD.ioInFlight, 1);
    hostCalls.count++;
    hostCalls.inWorker++;
    hostCalls.ms += performance.now() - started;
  }
  return returned(outcome);
}

/** This worker's services, one per spec (by the pool's id for it: specs equal in value share one),
 * for the worker's lifetime. */
const workerIos = new Map<number, Promise<WorkerIo>>();
const ioEnv: WorkerIoEnv = {
  now: () => new Date(Date.now() + clockOffsetMs),
  logger: {
    debug: (m, f) => guestContext.logger.debug(m, f),
    info: (m, f) => guestContext.logger.info(m, f),
    warn: (m, f) => guestContext.logger.warn(m, f),
    error: (m, f) => guestContext.logger.error(m, f),
    child: () => ioEnv.logger,
  },
};
/** The specs this worker has been sent, by id: the pool sends each only once. */
const workerIoSpecs = new Map<number, WorkerIoSpec>();
/** The services of the task's spec (a failed build is tried again by the next task naming it). */
function workerIoFor(ref: { id: number; spec?: WorkerIoSpec }): Promise<WorkerIo> {
  if (ref.spec) workerIoSpecs.set(ref.id, ref.spec);
  let p = workerIos.get(ref.id);
  if (!p) {
    const spec = workerIoSpecs.get(ref.id);
    if (!spec) return Promise.reject(new Error(`worker services ${ref.id} were named before they were sent`));
    p = (async () => {
      const mod = (await import(spec.module)) as { createWorkerIo?: WorkerIoFactory };
      if (typeof mod.createWorkerIo !== 'function') throw new Error(`${spec.module} exports no createWorkerIo`);
      return mod.createWorkerIo(spec.options, ioEnv);
    })();
    workerIos.set(ref.id, p);
    p.catch(() => workerIos.delete(ref.id));
  }
  return p;
}

async function closeWorkerIos(): Promise<void> {
  const all = [...workerIos.values()];
  workerIos.clear();
  // A throwing flush does not keep its services open.
  await Promise.allSettled(all.map((p) => p.then((io) => (flushWorkerIo(io), io.close()))));
}
/** The services' held observations go out as an execution ends or is stopped. */
function flushWorkerIo(io: WorkerIo | undefined): void {
  try {
    io?.flush?.();
  } catch {
    /* observability must not fail the execution */
  }
}

function callHost(iface: string, fn: string, args: unknown[]): unknown {
  return settle(callHostOutcome(iface, fn, args));
}

/** A host call whose outcome the caller maps itself (wasi:http's resources). */
function callHostOutcome(iface: string, fn: string, args: unknown[]): HostOutcome {
  const started = performance.now();
  try {
    return bridgeCall(iface, fn, args);
  } finally {
    hostCalls.count++;
    hostCalls.ms += performance.now() - started;
  }
}

/** The task's logger: its lines go to the main thread (no reply awaited), in order with the rest. */
function taskLogger(taskId: number): Logger {
  const line = (level: LogLevel) => (msg: string, fields?: LogFields) => emitLine({ kind: 'log', taskId, level, msg, fields });
  const logger: Logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), child: () => logger };
  return logger;
}
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const inGuestContext = (data: ExecutionData, logger: Logger): InGuestContext => ({ ...data, logger, guestLogs: [] });
const WARMUP_CONTEXT = inGuestContext(WARMUP_DATA, silent);
/** What the data-only imports of the execution in progress answer from (the warm-up's between tasks). */
let guestContext = WARMUP_CONTEXT;

type AnyInGuest = { functions: Record<string, (ctx: InGuestContext, args: unknown[]) => HostOutcome>; onInternalError(fn: string, err: unknown): HostOutcome };

/** A data-only import, answered here from the execution's data: no thread hop. */
function callInGuest(impl: AnyInGuest, fn: string, args: unknown[]): unknown {
  const started = performance.now();
  let outcome: HostOutcome;
  try {
    outcome = impl.functions[fn]!(guestContext, args);
  } catch (e) {
    guestContext.logger.error('host function failed', { fn, error: (e as Error)?.message ?? String(e) });
    outcome = impl.onInternalError(fn, e);
  } finally {
    hostCalls.count++;
    hostCalls.ms += performance.now() - started;
  }
  return returned(outcome);
}

/** What an import answered here returns to jco's glue. A returned `{ tag: 'err' }` is taken as the
 * error of a result, as a thrown payload is, without a throw and a catch (1–3 µs a call, in one
 * thread on Node 20). Only functions returning a result have an error outcome (typed by the WIT). */
function returned(outcome: HostOutcome): unknown {
  if ('err' in outcome) return { tag: 'err', val: outcome.err };
  return settle(outcome);
}

/** The guest's side of a host function's outcome. */
function settle(outcome: HostOutcome): unknown {
  if ('ok' in outcome) return outcome.ok;
  if ('err' in outcome) throw outcome.err; // jco lowers a thrown bare payload into result::err
  throw new Error(outcome.trap); // a thrown Error traps the guest, deliberately
}

/** Each bridged function's (`iface#fn`) last answer time on the main thread, µs: whether to spin for its next reply. */
const lastAnswerUs = new Map<string, number>();

function bridgeCall(iface: string, fn: string, args: unknown[]): HostOutcome {
  const posted = performance.now();
  Atomics.store(flag, WORD.reply, FLAG_WAITING);
  const msg: HostCallMessage = { taskId: currentTask, iface, fn, args };
  // Running but only waiting from here: the main thread's reading of the machine leaves this thread out.
  Atomics.store(flag, WORD.waiting, 1);
  bridge.postMessage(msg);
  // A reply that comes within tens of µs (a refusal) is caught by a short spin, saving a sleep and
  // a wake-up; but only while the main thread sees a core free for it, and not for a function whose
  // last answer took longer (I/O): the spin would hold a core that the main thread and Postgres need
  // (docs/sandbox.md, reply-wait.ts).
  const key = `${iface}#${fn}`;
  const spinUntil = posted + replySpinUs(Atomics.load(flag, WORD.spin), lastAnswerUs.get(key)) / 1000;
  while (Atomics.load(flag, WORD.reply) === FLAG_WAITING && performance.now() < spinUntil);
  Atomics.store(flag, WORD.waiting, 0);
  Atomics.wait(flag, WORD.reply, FLAG_WAITING);
  lastAnswerUs.set(key, Atomics.load(flag, WORD.answerUs));
  let reply = receiveMessageOnPort(bridge) as { message: HostOutcome } | undefined;
  // The flag can flip a moment before the message is visible on this side: poll briefly.
  while (!reply) {
    Atomics.wait(flag, WORD.sleep, 0, 1);
    reply = receiveMessageOnPort(bridge) as { message: HostOutcome } | undefined;
  }
  return reply.message;
}

/** The guest's alga:extension imports: every function of the world, answered here (data-only
 * interfaces; I/O ones under JSPI glue with services) or through the bridge (the rest). A bridged
 * call returns synchronously; under the JSPI glue that is allowed too. */
function algaImports(): Record<string, Record<string, (...args: unknown[]) => unknown>> {
  const out: Record<string, Record<string, (...args: unknown[]) => unknown>> = {};
  for (const [iface, fns] of Object.entries(WORLD_IMPORTS)) {
    const local = IN_GUEST_INTERFACES[iface as InterfaceName] as InGuestInterface<InterfaceName> | undefined as AnyInGuest | undefined;
    const obj: Record<string, (...args: unknown[]) => unknown> = {};
    for (const fn of fns) {
      obj[fn] = local
        ? (...args: unknown[]) => callInGuest(local, fn, args)
        : (...args: unknown[]) => (currentIo ? callInWorker(currentIo, iface, fn, args) : callHost(iface, fn, args));
    }
    out[iface] = obj;
  }
  return out;
}

/** WASI with a closed sandbox: no files, no environment, no sockets; outgoing HTTP only through the
 * host's egress rules (wasi-http.ts); the wall clock can be shifted; stdout/stderr go to the
 * runner's logger. */
function wasiImports(): Record<string, unknown> {
  const wallClock = {
    resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    now: () => {
      const ms = Date.now() + clockOffsetMs;
      return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
    },
  };
  const shim = new WASIShim({
    cli: stdio.cli(),
    clocks: { monotonicClock: wasi.clocks.monotonicClock, wallClock },
    sandbox: { preopens: {}, env: {}, args: ['extension'], enableNetwork: false },
  } as ConstructorParameters<typeof WASIShim>[0]);
  return withOutgoingHttp(shim.getImportObject() as Record<string, unknown>, callHostOutcome, () => outgoingBodyMax);
}
const IMPORTS = { ...wasiImports(), ...algaImports() };

/** A request no route of a real extension should claim; its host calls reach no service. */
const WARMUP_REQUEST: ExecuteRequest = {
  context: { requestId: 'alga-warmup', tenantId: '', extensionId: '' },
  http: { method: 'GET', url: '/.well-known/alga-runner/warmup', headers: [], body: undefined },
};

/** `jspi`: the glue's I/O imports run here, on no services (as the main thread's warm-up host). */
async function warmUp(guest: GuestExports, jspi: boolean): Promise<boolean> {
  const saved = currentTask;
  const savedContext = guestContext;
  const savedIo = currentIo;
  currentTask = WARMUP_TASK;
  guestContext = WARMUP_CONTEXT;
  currentIo = jspi ? warmupIo : undefined;
  stdio.reset(dropLines);
  try {
    await guest.handler(WARMUP_REQUEST);
    return true;
  } catch {
    return false;
  } finally {
    currentTask = saved;
    guestContext = savedContext;
    currentIo = savedIo;
  }
}

/** Loads the glue and modules of a variant the first time this worker sees it. */
async function load(variant: ComponentVariant): Promise<void> {
  if (instances.has(variant.key)) return;
  let p = loading.get(variant.key);
  if (!p) {
    p = (async () => {
      const { modules, stateExports } = variant;
      if (!modules) throw new Error(`component variant ${variant.key} was sent without its modules`);
      if (variant.jspi && !warmupIo) {
        const { createWarmupHostCall } = await import('./warmup-host.js');
        const warmupHost = createWarmupHostCall();
        warmupIo = { dispatch: (iface, fn, args) => warmupHost(iface, fn, args), signal: new AbortController().signal };
      }
      const mod = (await import(pathToFileURL(join(variant.glueDir, 'component.js')).href)) as { instantiate: Instantiate };
      const nameOf = new Map<WebAssembly.Module, string>(Object.entries(modules).map(([n, m]) => [m, n]));
      const glueMarks = Object.values(stateExports ?? {}).some((s) => s.marks !== undefined);
      const create = () => {
        const cores = new CoreInstantiation((m) => stateExports?.[nameOf.get(m) ?? ''], glueMarks);
        const guest = mod.instantiate(
          (name) => {
            const m = modules[name];
            if (!m) throw new Error(`core module ${name} missing`);
            return m;
          },
          IMPORTS,
          cores.instantiateCore,
        );
        return { guest, cores: cores.cores, marked: cores.marked };
      };
      const jspi = variant.jspi;
      instances.register(variant.key, create, (guest) => warmUp(guest, jspi));
      // First calls into freshly compiled code are slow (lazy compilation): pay that on a
      // throwaway instance. (In snapshot mode every instance gets its warm-up call anyway.)
      if (isolation !== 'snapshot') await warmUp(create().guest, jspi);
    })();
    loading.set(variant.key, p);
    p.catch(() => loading.delete(variant.key));
  }
  await p;
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

/** Why the guest failed: its own words first (componentize-js guests print the exception and
 * "out of memory" / "too much recursion" to stderr before trapping), then the trap itself. */
function failureOf(err: unknown, memory: WebAssembly.Memory, capBytes: number): { kind: FailureKind; message: string } {
  const trap = describe(err);
  const said = stdio.stderrHead.filter((l) => !l.startsWith('Redirecting call to abort')).slice(0, 1);
  const message = said.length ? `${said[0]} (${trap})` : trap;
  const text = `${said.join(' ')} ${trap}`;
  if (/out of memory|allocation failed/i.test(text)) return { kind: 'memory', message };
  // Allocators grow in chunks: a failed grow can leave memory a few MB under the cap.
  if (memory.buffer.byteLength >= capBytes - 16 * 2 ** 20) return { kind: 'memory', message };
  if (/too much recursion|maximum call stack/i.test(text)) return { kind: 'stack-overflow', message };
  return { kind: 'trap', message };
}

function responseBytes(r: ExecuteResponse): number {
  let n = r.body?.length ?? 0;
  for (const h of r.headers) n += h.name.length + h.value.length;
  return n;
}

function capBytesOf(key: string): number {
  return Number(key.slice(key.lastIndexOf(':') + 1)) * 2 ** 20;
}

async function execute(job: ExecuteTask): Promise<void> {
  const { taskId, variant } = job;
  try {
    await load(variant);
  } catch (err) {
    return post({ type: 'failed', taskId, kind: 'instantiate', message: `could not load component: ${describe(err)}` });
  }
  let io: WorkerIo | undefined;
  if (variant.jspi && job.workerIo) {
    try {
      [io] = await Promise.all([workerIoFor(job.workerIo), hostInterfaces()]);
    } catch (err) {
      return post({ type: 'failed', taskId, kind: 'instantiate', message: `could not start the sandbox's services: ${describe(err)}` });
    }
  }
  let ready;
  try {
    ready = await instances.take(variant.key); // may instantiate and warm up: before this job's state is set
  } catch (err) {
    return post({ type: 'failed', taskId, kind: 'instantiate', message: `could not instantiate component: ${describe(err)}` });
  }
  currentTask = taskId;
  guestContext = inGuestContext(job.data, taskLogger(taskId));
  clockOffsetMs = job.clockOffsetMs;
  outgoingBodyMax = job.maxOutgoingBodyBytes;
  lineSender.reset();
  stdio.reset((stream, line) => emitLine({ kind: 'stdio', taskId, stream, line }));
  hostCalls = { count: 0, ms: 0, inWorker: 0 };
  const abort = new AbortController();
  currentAbort = abort;
  currentServices = io;
  currentIo = io ? { dispatch: (await hostInterfaces()).createImportDispatch({ ...guestContext, services: io.services }), signal: abort.signal } : undefined;
  let result: WorkerToMain;
  let succeeded = false;
  post({ type: 'started', taskId });
  try {
    const response = (await ready.guest.handler(job.request)) as ExecuteResponse;
    const size = responseBytes(response);
    if (size > job.maxResponseBytes) {
      result = { type: 'failed', taskId, kind: 'response-too-large', message: `response of ${size} bytes exceeds the runner's limit of ${job.maxResponseBytes} bytes`, hostCalls };
    } else {
      result = { type: 'done', taskId, response, hostCalls };
    }
    succeeded = true; // the guest itself finished cleanly: its instance can be restored
  } catch (err) {
    stdio.flush();
    result = { type: 'failed', taskId, ...failureOf(err, ready.memory, capBytesOf(variant.key)), hostCalls };
  }
  abort.abort(new Error('the execution is over')); // host work it left behind is cancelled
  currentIo = undefined;
  currentServices = undefined;
  flushWorkerIo(io);
  stdio.flush();
  post(result);
  stdio.reset(dropLines);
  currentTask = WARMUP_TASK;
  guestContext = WARMUP_CONTEXT; // the execution's data (its secrets) is not kept past it
  // After the response is posted: restore or replace the instance, off the request path.
  instances.release(variant.key, ready, succeeded);
}

async function prepare(variant: ComponentVariant): Promise<void> {
  try {
    await load(variant);
    await instances.fill(variant.key);
    post({ type: 'prepared', key: variant.key });
  } catch (err) {
    post({ type: 'prepared', key: variant.key, error: describe(err) });
  }
}

port.on('message', (msg: MainToWorker) => {
  // Not queued: the pool is closing, whatever runs (it is terminated right after).
  if (msg.type === 'close') return void closeWorkerIos().finally(() => post({ type: 'closed' }));
  if (msg.type === 'abort') {
    currentAbort?.abort(new Error('the execution was stopped'));
    return void Promise.allSettled([...inFlight]).then(() => {
      flushWorkerIo(currentServices); // the worker may be terminated next
      post({ type: 'aborted' });
    });
  }
  chain = chain.then(() => (msg.type === 'execute' ? execute(msg) : prepare(msg.variant)));
});
post({ type: 'ready' });
