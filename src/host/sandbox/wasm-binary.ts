/**
 * Surgery on a core WebAssembly module's binary, done once per (component, memory cap) before
 * compiling:
 * - a maximum on every memory the module defines, because neither V8 nor worker `resourceLimits`
 *   bound linear memory (the guest's `memory.grow` fails at the cap and the guest traps);
 * - an export of every mutable global and every table it defines, so the sandbox can snapshot and
 *   restore the whole wasm state of an instance (memory + globals), and notice a table change.
 * Only the memory, global, table and export sections are read; everything else is copied as is.
 */

export const WASM_PAGE = 65536;
/** Exported names we add; jco's glue ignores exports it does not know. */
export const GLOBAL_EXPORT_PREFIX = '__alga_global_';
export const TABLE_EXPORT_PREFIX = '__alga_table_';

export interface RewriteResult {
  bytes: Uint8Array<ArrayBuffer>;
  /** Initial size (pages) of each memory the module defines. */
  initialPages: number[];
  /** Names of the exports added for mutable globals / tables. */
  globalExports: string[];
  tableExports: string[];
}

export class MemoryCapError extends Error {
  /** The requested cap is below what the component needs to start: the request's mistake. */
  constructor(
    message: string,
    readonly belowMinimum = false,
  ) {
    super(message);
  }
}

const SECTION = { import: 2, table: 4, memory: 5, global: 6, export: 7 } as const;

/** A cursor over a wasm binary; `fail` makes the error a truncated binary throws. */
export class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    private readonly fail: (message: string) => Error = (m) => new Error(m),
  ) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw this.fail('truncated wasm binary');
    return this.buf[this.pos++]!;
  }
  /** Skips any LEB128 number (signed or not, any width). */
  leb(): void {
    while (this.byte() & 0x80);
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  }
  u64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  skip(n: number): void {
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  /** A constant expression, up to and including its `end`. */
  skipInitExpr(): void {
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x23 || op === 0xd2) this.u32(); // i32.const (sleb fits), global.get, ref.func
      else if (op === 0x42) this.u64();
      else if (op === 0x43) this.skip(4);
      else if (op === 0x44) this.skip(8);
      else if (op === 0xd0) this.byte(); // ref.null t
      else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) continue; // extended const
      else throw new Error(`unsupported opcode 0x${op.toString(16)} in a constant expression`);
    }
  }
}

export function u32Bytes(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function nameBytes(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...u32Bytes(b.length), ...b];
}

export function section(id: number, body: number[] | Uint8Array): Uint8Array {
  const head = [id, ...u32Bytes(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

export interface Section {
  id: number;
  start: number; // of the whole section (id byte)
  bodyStart: number;
  end: number;
}

/** The sections of a core module or a component (same framing: magic, 4-byte version/layer). */
export function sections(bytes: Uint8Array): Section[] {
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new Error('not a wasm binary');
  const r = new Reader(bytes);
  r.pos = 8;
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    if (r.pos + size > bytes.length) throw new Error('truncated wasm binary');
    out.push({ id, start, bodyStart: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

/** Skips an import's description; returns its kind and, for a global, whether it is mutable. */
function readImportKinds(bytes: Uint8Array, s: Section): { globals: number; tables: number } {
  const r = new Reader(bytes);
  r.pos = s.bodyStart;
  let globals = 0;
  let tables = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0) r.u32();
    else if (kind === 1) {
      r.byte();
      skipLimits(r);
      tables++;
    } else if (kind === 2) skipLimits(r);
    else if (kind === 3) {
      r.byte();
      r.byte();
      globals++;
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else throw new Error(`unsupported import kind ${kind}`);
  }
  return { globals, tables };
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  const is64 = (flags & 0x04) !== 0;
  if (is64) r.u64();
  else r.u32();
  if (flags & 0x01) {
    if (is64) r.u64();
    else r.u32();
  }
}

/** Rewrites the memory section so each defined memory has `maxPages` as its maximum. */
function capMemories(bytes: Uint8Array, s: Section, maxPages: number): { body: number[]; initialPages: number[] } {
  const r = new Reader(bytes);
  r.pos = s.bodyStart;
  const count = r.u32();
  const body = [...u32Bytes(count)];
  const initialPages: number[] = [];
  for (let i = 0; i < count; i++) {
    const flags = r.byte();
    if (flags & 0x04) throw new MemoryCapError('64-bit memories are not supported');
    const min = r.u32();
    const max = flags & 0x01 ? r.u32() : undefined;
    initialPages.push(min);
    if (min > maxPages) {
      throw new MemoryCapError(`memory limit ${(maxPages * WASM_PAGE) / 2 ** 20} MB is below the component's initial memory of ${Math.ceil((min * WASM_PAGE) / 2 ** 20)} MB`, true);
    }
    const cap = max === undefined ? maxPages : Math.min(max, maxPages);
    body.push(flags | 0x01, ...u32Bytes(min), ...u32Bytes(cap));
  }
  return { body, initialPages };
}

function countMutableGlobals(bytes: Uint8Array, s: Section): boolean[] {
  const r = new Reader(bytes);
  r.pos = s.bodyStart;
  const out: boolean[] = [];
  for (let n = r.u32(); n > 0; n--) {
    r.byte(); // value type
    out.push(r.byte() === 1);
    r.skipInitExpr();
  }
  return out;
}

function countEntries(bytes: Uint8Array, s: Section): number {
  const r = new Reader(bytes);
  r.pos = s.bodyStart;
  return r.u32();
}

/**
 * Returns the module with every defined memory capped at `maxPages`, and with exports added for
 * its mutable globals and its tables (when `exportState`).
 */
export function rewriteCoreModule(bytes: Uint8Array, o: { maxPages: number; exportState: boolean }): RewriteResult {
  const secs = sections(bytes);
  const imports = secs.find((s) => s.id === SECTION.import);
  const { globals: importedGlobals, tables: importedTables } = imports ? readImportKinds(bytes, imports) : { globals: 0, tables: 0 };
  const globalSec = secs.find((s) => s.id === SECTION.global);
  const tableSec = secs.find((s) => s.id === SECTION.table);
  const mutable = globalSec ? countMutableGlobals(bytes, globalSec) : [];
  const tableCount = tableSec ? countEntries(bytes, tableSec) : 0;

  const globalExports: string[] = [];
  const tableExports: string[] = [];
  const extraExports: number[] = [];
  if (o.exportState) {
    mutable.forEach((isMut, i) => {
      if (!isMut) return;
      const name = `${GLOBAL_EXPORT_PREFIX}${i}`;
      globalExports.push(name);
      extraExports.push(...nameBytes(name), 0x03, ...u32Bytes(importedGlobals + i));
    });
    for (let i = 0; i < tableCount; i++) {
      const name = `${TABLE_EXPORT_PREFIX}${i}`;
      tableExports.push(name);
      extraExports.push(...nameBytes(name), 0x01, ...u32Bytes(importedTables + i));
    }
  }

  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let initialPages: number[] = [];
  let exportsWritten = false;
  const addedCount = globalExports.length + tableExports.length;
  for (const s of secs) {
    if (s.id === SECTION.memory) {
      const capped = capMemories(bytes, s, o.maxPages);
      initialPages = capped.initialPages;
      parts.push(section(SECTION.memory, capped.body));
    } else if (s.id === SECTION.export && addedCount) {
      const r = new Reader(bytes);
      r.pos = s.bodyStart;
      const count = r.u32();
      const rest = bytes.subarray(r.pos, s.end);
      const body = new Uint8Array([...u32Bytes(count + addedCount), ...rest, ...extraExports]);
      parts.push(section(SECTION.export, body));
      exportsWritten = true;
    } else {
      // The export section comes after global (6) and tag (13), before start (8): add one there.
      if (!exportsWritten && addedCount && s.id > SECTION.export && s.id !== 13) {
        parts.push(section(SECTION.export, [...u32Bytes(addedCount), ...extraExports]));
        exportsWritten = true;
      }
      parts.push(bytes.subarray(s.start, s.end));
    }
  }
  if (!exportsWritten && addedCount) parts.push(section(SECTION.export, [...u32Bytes(addedCount), ...extraExports]));

  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { bytes: out, initialPages, globalExports, tableExports };
}
