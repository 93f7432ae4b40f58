/**
 * The whole wasm state of one component instance — linear memory, every mutable global of every
 * core module, the length of every table — captured once and written back after each successful
 * execution, so the next one starts from exactly the same state without a new instantiation
 * (~1 ms for the 9 MB of the sample against 10–30 ms).
 *
 * Memory is compared page by page and only pages that differ are copied back: a call dirties a few
 * percent of the pages, and rewriting all of them costs more and evicts the guest's working set
 * from the CPU caches (the next call then runs several times slower; see bench/).
 *
 * Globals matter as much as memory: componentize-js components carry the WASI preview1 adapter,
 * whose state pointer lives in a global; restoring memory alone trips its assertions.
 * A restore is refused (the instance is discarded instead) when memory grew (it cannot shrink)
 * or a table changed size; the caller also discards it after any trap.
 */
/** Granularity of the copy (an OS page). */
const RESTORE_PAGE = 4096;
/** Memory is first compared in chunks this large (one native call each), then page by page only
 * inside chunks that differ: most chunks are untouched, and a compare call costs ~0.2 µs. */
const RESTORE_CHUNK = 16 * RESTORE_PAGE;

export interface CoreInstanceState {
  instance: WebAssembly.Instance;
  globals: string[];
  tables: string[];
}

export class InstanceSnapshot {
  private readonly memoryBytes: Buffer;
  private readonly globals: { global: WebAssembly.Global; value: unknown }[];
  private readonly tables: { table: WebAssembly.Table; length: number }[];

  constructor(
    private readonly memory: WebAssembly.Memory,
    cores: CoreInstanceState[],
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
  }

  get byteLength(): number {
    return this.memoryBytes.byteLength;
  }

  /** Why the instance cannot be brought back, or undefined when it can. */
  refusal(): string | undefined {
    if (this.memory.buffer.byteLength !== this.memoryBytes.byteLength) return 'memory grew';
    if (this.tables.some((t) => t.table.length !== t.length)) return 'a table changed size';
    return undefined;
  }

  /** Writes the captured state back; call only when `refusal()` is undefined. */
  restore(): void {
    const current = Buffer.from(this.memory.buffer);
    const snap = this.memoryBytes;
    for (let chunk = 0; chunk < snap.length; chunk += RESTORE_CHUNK) {
      const chunkEnd = Math.min(chunk + RESTORE_CHUNK, snap.length);
      if (current.compare(snap, chunk, chunkEnd, chunk, chunkEnd) === 0) continue;
      for (let start = chunk; start < chunkEnd; start += RESTORE_PAGE) {
        const end = Math.min(start + RESTORE_PAGE, chunkEnd);
        if (current.compare(snap, start, end, start, end) !== 0) snap.copy(current, start, start, end);
      }
    }
    for (const g of this.globals) g.global.value = g.value;
  }
}
