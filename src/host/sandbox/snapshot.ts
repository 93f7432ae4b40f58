/**
 * The whole wasm state of one component instance — linear memory, every mutable global of every
 * core module, the length of every table — captured once and written back after each successful
 * execution, so the next one starts from exactly the same state without a new instantiation
 * (10–30 ms for the 9 MB of the sample).
 *
 * Two ways to find what an execution changed in memory:
 * - marks (when every core module that can write the memory got the write barrier of
 *   write-barrier.ts): the barrier marks each 4 KiB page a store of the guest wrote, and the
 *   instantiation below marks the pages the JS glue writes (import results at the pointers the guest
 *   passed, buffers it got from realloc); only marked pages are copied back. Every `VERIFY_EVERY`
 *   restores, and whenever marks are not available, the whole memory is compared instead, and a
 *   changed page that was not marked disables the marks for good (the instance is discarded).
 * - the full compare: chunks of 64 KiB, then pages inside chunks that differ; only pages that differ
 *   are copied back (rewriting all of them would evict the guest's working set from the CPU caches).
 * Reading the whole memory costs ~0.9 ms for the sample and slows the next call too (the compare
 * evicts the guest's working set from the CPU caches); copying its ~80 marked pages costs ~0.04 ms.
 *
 * Globals matter as much as memory: componentize-js components carry the WASI preview1 adapter,
 * whose state pointer lives in a global; restoring memory alone trips its assertions.
 * A restore is refused (the instance is discarded instead) when memory grew (it cannot shrink)
 * or a table changed size; the caller also discards it after any trap.
 */
import { MARK_SHIFT, STORE_REACH } from './write-barrier.js';

/** Granularity of the copy (an OS page, and the barrier's mark granularity). */
const RESTORE_PAGE = 4096;
/** Memory is first compared in chunks this large (one native call each), then page by page only
 * inside chunks that differ: most chunks are untouched, and a compare call costs ~0.2 µs. */
const RESTORE_CHUNK = 16 * RESTORE_PAGE;
/** Every this many restores compare the whole memory, proving the marks missed no write. */
export const VERIFY_EVERY = 16;

/** What the rewrite added to one core module (component-cache.ts), by module file. */
export interface CoreStateExports {
  globals: string[];
  tables: string[];
  /** The barrier's marks memory, when the module's stores are marked. */
  marks?: string;
  /** The module can write memory and its stores are not marked: no restore by marks. */
  unmarked?: boolean;
}

export interface CoreInstanceState {
  instance: WebAssembly.Instance;
  globals: string[];
  tables: string[];
  marks?: string;
  unmarked?: boolean;
}

type AnyFn = (...args: unknown[]) => unknown;

type SuspendingCtor = new (fn: AnyFn) => object;
const OriginalSuspending = (WebAssembly as unknown as { Suspending?: SuspendingCtor }).Suspending;
/** The function each `WebAssembly.Suspending` made since `trackSuspending()` wraps. */
const suspendingInner = new WeakMap<object, AnyFn>();

/**
 * jco's JSPI glue hands each async import to the core module as a `WebAssembly.Suspending`, which
 * hides its function: to mark the pages that import writes (its results, after it resumes), the
 * constructor is made to remember the function it wraps, so `CoreInstantiation` can wrap it again.
 * Called once in a sandbox worker, before any glue runs; the objects made are genuine Suspendings.
 */
export function trackSuspending(): void {
  const wasm = WebAssembly as unknown as { Suspending?: SuspendingCtor };
  if (!OriginalSuspending || wasm.Suspending !== OriginalSuspending) return;
  const Tracked = function (fn: AnyFn) {
    const s = new OriginalSuspending(fn);
    suspendingInner.set(s, fn);
    return s;
  } as unknown as SuspendingCtor;
  Tracked.prototype = OriginalSuspending.prototype;
  wasm.Suspending = Tracked;
}

/**
 * Instantiates the core modules of one component instance for jco's `instantiateCore` hook: records
 * each core's state, and marks the pages the JS glue may write (`marked` true only when every core
 * is accounted for). The glue writes guest memory only while the guest calls an import (results at
 * pointers among the import's arguments: both the page of each and the next are marked) and into
 * buffers it asks the guest's realloc for (the whole buffer is marked).
 */
export class CoreInstantiation {
  readonly cores: CoreInstanceState[] = [];
  private marks: Uint8Array | undefined;
  private readonly wasmFns = new WeakSet<object>();
  private unwrappable = false;

  /** `glueMarks` false: no core module has marks (no barrier on this Node), so nothing the glue
   * writes needs marking and its calls are left unwrapped. */
  constructor(
    private readonly stateOf: (m: WebAssembly.Module) => CoreStateExports | undefined,
    private readonly glueMarks = true,
  ) {}

  /** True when every write to memory is marked: by a barrier, or by this class for the glue. */
  get marked(): boolean {
    return this.marks !== undefined && !this.unwrappable && this.cores.every((c) => !c.unmarked);
  }

  readonly instantiateCore = (m: WebAssembly.Module, imports?: WebAssembly.Imports): { exports: WebAssembly.Exports } => {
    const state = this.stateOf(m);
    const instance = new WebAssembly.Instance(m, imports && state && this.glueMarks ? this.wrapImports(imports) : imports);
    this.cores.push({ instance, globals: state?.globals ?? [], tables: state?.tables ?? [], marks: state?.marks, unmarked: state ? state.unmarked : true });
    const exports: Record<string, unknown> = { ...instance.exports };
    for (const v of Object.values(exports)) if (typeof v === 'function') this.wasmFns.add(v);
    // Without the glue's marks, a barrier's marks alone would miss its writes: compare in full.
    if (state?.marks && this.glueMarks && instance.exports.memory instanceof WebAssembly.Memory) {
      this.marks = new Uint8Array((instance.exports[state.marks] as WebAssembly.Memory).buffer);
    }
    if (state && this.glueMarks) {
      for (const [name, v] of Object.entries(exports)) {
        if (typeof v !== 'function' || !name.includes('realloc')) continue;
        const realloc = v as AnyFn;
        exports[name] = Object.assign((...args: unknown[]) => {
          const ptr = realloc(...args) as number;
          this.markRange(ptr, args[3] as number);
          return ptr;
        }, realloc);
      }
    }
    return { exports: exports as WebAssembly.Exports };
  };

  private wrapImports(imports: WebAssembly.Imports): WebAssembly.Imports {
    const out: WebAssembly.Imports = {};
    for (const [ns, fns] of Object.entries(imports)) {
      const o: Record<string, WebAssembly.ImportValue> = {};
      for (const [name, v] of Object.entries(fns)) {
        const inner = typeof v === 'object' && v !== null ? suspendingInner.get(v) : undefined;
        if (inner && OriginalSuspending) {
          // Marked before the call, as below: the results are written at these pointers on resuming.
          o[name] = new OriginalSuspending((...args: unknown[]) => {
            for (let i = 0; i < args.length; i++) {
              const a = args[i];
              if (typeof a === 'number') this.markPointer(a);
            }
            return inner(...args);
          }) as WebAssembly.ImportValue;
          continue;
        }
        // A Suspending made before tracking: what its import writes would not be marked.
        if (OriginalSuspending && v instanceof OriginalSuspending) this.unwrappable = true;
        if (typeof v !== 'function' || this.wasmFns.has(v)) {
          o[name] = v;
          continue;
        }
        const f = v as AnyFn;
        // Marked before the call: the pages depend only on the arguments, and a mark stays until
        // the restore (a try/finally around the call cost the call ~0.1 µs).
        o[name] = Object.assign((...args: unknown[]) => {
          for (let i = 0; i < args.length; i++) {
            const a = args[i];
            if (typeof a === 'number') this.markPointer(a);
          }
          return f(...args);
        }, f);
      }
      out[ns] = o;
    }
    return out;
  }

  private markPointer(p: number): void {
    const m = this.marks;
    if (!m) return;
    const page = (p >>> 0) >>> MARK_SHIFT;
    if (page < m.length) m[page] = 1;
    if (page + 1 < m.length) m[page + 1] = 1;
  }

  private markRange(p: number, n: number): void {
    const m = this.marks;
    if (!m || !(n > 0)) return;
    const first = (p >>> 0) >>> MARK_SHIFT;
    const last = Math.min(((p >>> 0) + n - 1) >>> MARK_SHIFT, m.length - 1);
    if (first <= last) m.fill(1, first, last + 1);
  }
}

export class InstanceSnapshot {
  private readonly memoryBytes: Buffer;
  private readonly globals: { global: WebAssembly.Global; value: unknown }[];
  private readonly tables: { table: WebAssembly.Table; length: number }[];
  /** Every marks array (one per module with a barrier), or undefined: compare in full. */
  private marks: Uint8Array[] | undefined;
  private restores = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    cores: CoreInstanceState[],
    marked = false,
    private readonly verifyEvery = VERIFY_EVERY,
  ) {
    this.memoryBytes = Buffer.from(new Uint8Array(memory.buffer).slice().buffer);
    this.globals = cores.flatMap((c) =>
      c.globals.map((name) => {
        const global = c.instance.exports[name] as WebAssembly.Global;
        return { global, value: global.value };
      }),
    );
    this.tables = cores.flatMap((c) =>
      c.tables.map((name) => {
        const table = c.instance.exports[name] as WebAssembly.Table;
        return { table, length: table.length };
      }),
    );
    if (marked && cores.every((c) => !c.unmarked)) {
      this.marks = cores.filter((c) => c.marks).map((c) => new Uint8Array((c.instance.exports[c.marks!] as WebAssembly.Memory).buffer));
      const pages = this.memoryBytes.length / RESTORE_PAGE;
      for (const m of this.marks) m.fill(0, 0, pages); // what instantiation and warm-up wrote is the snapshot
    }
  }

  get byteLength(): number {
    return this.memoryBytes.byteLength;
  }

  /** Whether restores copy marked pages (else they compare the whole memory). */
  get byMarks(): boolean {
    return this.marks !== undefined;
  }

  /** Why the instance cannot be brought back, or undefined when it can. */
  refusal(): string | undefined {
    if (this.memory.buffer.byteLength !== this.memoryBytes.byteLength) return 'memory grew';
    if (this.tables.some((t) => t.table.length !== t.length)) return 'a table changed size';
    return undefined;
  }

  /** Writes the captured state back; call only when `refusal()` is undefined. Returns an error
   * when the full compare found a changed page the marks missed (the state is restored anyway;
   * marks are then no longer used, and the instance should be discarded). */
  restore(): string | undefined {
    let missed: string | undefined;
    if (this.marks && ++this.restores % this.verifyEvery !== 0) this.copyMarked();
    else missed = this.compareAll();
    for (const g of this.globals) g.global.value = g.value;
    return missed;
  }

  private copyMarked(): void {
    const current = Buffer.from(this.memory.buffer);
    const snap = this.memoryBytes;
    const pages = snap.length / RESTORE_PAGE;
    const dirty = this.takeMarks(pages);
    for (let p = 0; p < pages; p++) {
      if (!dirty[p]) continue;
      let q = p + 1;
      while (q < pages && dirty[q]) q++; // a run of marked pages is one copy
      snap.copy(current, p * RESTORE_PAGE, p * RESTORE_PAGE, Math.min(q * RESTORE_PAGE + STORE_REACH, snap.length));
      p = q;
    }
  }

  /** The union of every marks array over the first `pages` pages; clears them. */
  private takeMarks(pages: number): Uint8Array {
    const [first, ...rest] = this.marks!;
    const dirty = first!.slice(0, pages);
    first!.fill(0, 0, pages);
    for (const whole of rest) {
      const m = whole.subarray(0, pages); // never scan past the memory: the rest is never marked nor touched
      for (let i = m.indexOf(1); i !== -1; i = m.indexOf(1, i + 1)) dirty[i] = 1;
      m.fill(0);
    }
    return dirty;
  }

  private compareAll(): string | undefined {
    const current = Buffer.from(this.memory.buffer);
    const snap = this.memoryBytes;
    const dirty = this.marks ? this.takeMarks(snap.length / RESTORE_PAGE) : undefined;
    let missed: number | undefined;
    for (let chunk = 0; chunk < snap.length; chunk += RESTORE_CHUNK) {
      const chunkEnd = Math.min(chunk + RESTORE_CHUNK, snap.length);
      if (current.compare(snap, chunk, chunkEnd, chunk, chunkEnd) === 0) continue;
      for (let start = chunk; start < chunkEnd; start += RESTORE_PAGE) {
        const end = Math.min(start + RESTORE_PAGE, chunkEnd);
        if (current.compare(snap, start, end, start, end) === 0) continue;
        const page = start / RESTORE_PAGE;
        if (dirty && !dirty[page] && !(page > 0 && dirty[page - 1] && current.compare(snap, start + STORE_REACH, end, start + STORE_REACH, end) === 0)) missed ??= page;
        snap.copy(current, start, start, end);
      }
    }
    if (missed === undefined) return undefined;
    this.marks = undefined;
    return `the write barrier missed a write to page ${missed}`;
  }
}
