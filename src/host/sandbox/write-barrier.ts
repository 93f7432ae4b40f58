/**
 * A write barrier added to a core module's code, so a restore copies back only the pages an
 * execution wrote instead of comparing the whole memory (see snapshot.ts):
 * - every store to memory 0 is covered by a 1 written into a second memory, `__alga_marks`, at the
 *   index of the 4 KiB page it writes (a store reaching into the next page is covered by the
 *   restore: it copies STORE_REACH bytes past every marked page). Where the address is a local's
 *   value, the mark is computed from that local (no temporaries), and stores from one local in one
 *   straight-line run share one mark when their offsets are close (see planMarks);
 * - `memory.fill` and `memory.copy` on memory 0 go through a helper that marks their whole range.
 * A second memory needs multi-memory (V8 12, Node >= 22); elsewhere, and for any module with
 * instructions this pass does not know (atomics, GC, `memory.init`, more than one memory), the
 * module is left as it is and its instances are restored by the full compare.
 * Writes the JS glue makes into guest memory are not stores of the module: snapshot.ts marks them.
 */

import { Reader, u32Bytes } from './wasm-binary.js';

export const MARKS_EXPORT = '__alga_marks';
/** log2 of the marked page size. */
export const MARK_SHIFT = 12;
/** A restore copies this many bytes past each run of marked pages, so a mark covers the stores
 * that start up to this far before its page ends (a store wider than one byte, or several stores
 * at small offsets from one local, sharing one mark). */
export const STORE_REACH = 64;
/** Changes whenever the pass writes different bytes (the disk cache of its output is keyed by it). */
export const BARRIER_REVISION = 2;
/** The marks memory covers any wasm32 memory (4 GiB: 1 Mi marks), whatever the cap, so one
 * rewrite serves every cap; pages never marked are never touched, so they take no RAM. */
const MARKS_PAGES = 16;

export class BarrierUnsupported extends Error {}

/** Why the module got no barrier (instances are then compared in full), or what was added. */
export type BarrierResult = { bytes: Uint8Array<ArrayBuffer>; marks: typeof MARKS_EXPORT; stores: number; markWrites: number; reason?: undefined } | { bytes?: undefined; reason: string };

let multiMemory: boolean | undefined;
/** Whether this engine accepts a module with two memories. */
export function multiMemorySupported(): boolean {
  if (multiMemory === undefined) {
    // (module (memory 1) (memory 1))
    const probe = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 5, 2, 0, 1, 0, 1]);
    try {
      new WebAssembly.Module(probe);
      multiMemory = true;
    } catch {
      multiMemory = false;
    }
  }
  return multiMemory;
}

class Out {
  buf: Uint8Array;
  len = 0;
  constructor(size = 256) {
    this.buf = new Uint8Array(size);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** `src[from, to)`, without a subarray for short runs (most runs between two stores are). */
  copy(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.room(n);
    if (n < 64) {
      const buf = this.buf;
      let at = this.len;
      for (let i = from; i < to; i++) buf[at++] = src[i]!;
    } else this.buf.set(src.subarray(from, to), this.len);
    this.len += n;
  }
  u32(n: number): void {
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      this.byte(b);
    } while (n);
  }
  i32(n: number): void {
    n |= 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }
  done(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
  /** What was written so far, without a copy (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}


/** A cursor over the module, with the few decoders the pass needs beyond the shared reader's. */
class In extends Reader {
  constructor(b: Uint8Array, pos = 0) {
    super(b, pos, (m) => new BarrierUnsupported(m));
  }
  valtype(): number {
    const t = this.byte();
    if (t === 0x63 || t === 0x64) this.leb(); // (ref null? heaptype)
    return t;
  }
  /** A signed LEB128 i32. */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result | 0;
  }
  limits(): void {
    const flags = this.byte();
    this.leb();
    if (flags & 1) this.leb();
  }
}

interface Sec {
  id: number;
  start: number;
  body: number;
  end: number;
}

function sectionsOf(b: Uint8Array): Sec[] {
  const r = new In(b, 8);
  const out: Sec[] = [];
  while (r.pos < b.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start, body: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

const STORE_TYPE: Record<number, number> = { 0x36: 0x7f, 0x37: 0x7e, 0x38: 0x7d, 0x39: 0x7c, 0x3a: 0x7f, 0x3b: 0x7f, 0x3c: 0x7e, 0x3d: 0x7e, 0x3e: 0x7e };
const V128 = 0x7b;
const I32 = 0x7f;

/** Where a store or a bulk write sits in a function body. */
interface Site {
  start: number; // first byte of the instruction
  end: number; // after its immediates
  /** Value type of a store, or 'fill' / 'copy'. */
  kind: number | 'fill' | 'copy';
  offset: number;
  /** Bytes a store writes. */
  width: number;
  /** What the address is: a local's value (its index), a constant (CONST), or UNKNOWN. */
  base: number;
  /** The constant address, when `base` is CONST. */
  value: number;
  /** Stores sharing one mark: same base local (not written in between), same straight-line run. */
  group: number;
  /** Set on the site that writes its group's mark: the offset the mark is computed from. */
  markAt?: number;
  /** A store covered by another site's mark. */
  covered?: boolean;
}

const UNKNOWN = -2;
const CONST = -1;
const WIDTH: Record<number, number> = { 0x36: 4, 0x37: 8, 0x38: 4, 0x39: 8, 0x3a: 1, 0x3b: 2, 0x3c: 1, 0x3d: 2, 0x3e: 4 };

function memarg(r: In): { memidx: number; offset: number } {
  const flags = r.u32();
  const memidx = flags & 0x40 ? r.u32() : 0;
  const offset = r.u32();
  return { memidx, offset };
}

/**
 * The operand stack of one body as far as store addresses go: for each value, whether it is a
 * local's current value or a constant. Anything it cannot follow (control flow, SIMD, calls' results)
 * is UNKNOWN, and popping an empty stack gives UNKNOWN, so a mistake can only make it lose track.
 * Also the groups of the current straight-line run (no branch lands inside it), by base.
 */
class Operands {
  base: number[] = [];
  value: number[] = [];
  sp = 0;
  /** Group of the current run per base local (or per constant page, keyed -3 - page). */
  readonly groups = new Map<number, number>();
  groupCount = 0;
  push(base: number, value = 0): void {
    this.base[this.sp] = base;
    this.value[this.sp++] = value;
  }
  /** Pops one value; returns its base (its constant in `popped`). */
  popped = 0;
  pop(): number {
    if (this.sp === 0) return UNKNOWN;
    this.sp--;
    this.popped = this.value[this.sp]!;
    return this.base[this.sp]!;
  }
  drop(n: number): void {
    this.sp = Math.max(0, this.sp - n);
  }
  unary(): void {
    this.drop(1);
    this.push(UNKNOWN);
  }
  binary(): void {
    this.drop(2);
    this.push(UNKNOWN);
  }
  /** A local is written: values read from it before are no longer its value. */
  written(local: number): void {
    for (let i = 0; i < this.sp; i++) if (this.base[i] === local) this.base[i] = UNKNOWN;
    this.groups.delete(local);
  }
  /** A point a branch can reach, or the end of a reachable run: nothing known carries over. */
  boundary(): void {
    this.sp = 0;
    if (this.groups.size) this.groups.clear();
  }
  groupOf(key: number): number {
    let g = this.groups.get(key);
    if (g === undefined) {
      g = this.groupCount++;
      this.groups.set(key, g);
    }
    return g;
  }
}

/** Parameter and result counts of a function type. */
interface Arity {
  params: number;
  results: number;
}

/** Finds the stores and bulk writes of one body (instructions from `r.pos` to `end`). */
function scanBody(r: In, end: number, sites: Site[], types: Arity[], funcs: Arity[]): void {
  const s = new Operands();
  const store = (start: number, kind: number, width: number, m: { memidx: number; offset: number }) => {
    if (m.memidx !== 0) throw new BarrierUnsupported('store to another memory');
    s.pop(); // the value
    let base = s.pop();
    const value = s.popped;
    let group = -1;
    if (base >= 0) group = s.groupOf(base);
    else if (base === CONST) {
      const address = (value >>> 0) + m.offset;
      if (address >= 2 ** 32) base = UNKNOWN; // traps
      else group = s.groupOf(-3 - Math.floor(address / 2 ** MARK_SHIFT));
    }
    sites.push({ start, end: r.pos, kind, offset: m.offset, width, base, value, group });
  };
  while (r.pos < end) {
    const start = r.pos;
    const op = r.byte();
    if (op >= 0x28 && op <= 0x35) {
      memarg(r); // loads
      s.unary();
    } else if (op >= 0x36 && op <= 0x3e) store(start, STORE_TYPE[op]!, WIDTH[op]!, memarg(r));
    else if (op === 0x3f) {
      r.u32(); // memory.size
      s.push(UNKNOWN);
    } else if (op === 0x40) {
      r.u32(); // memory.grow
      s.unary();
    } else if (op >= 0x45 && op <= 0xc4) {
      if (op === 0x45 || op === 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) || (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f) || op >= 0xa7) s.unary();
      else s.binary();
    } else if (op === 0x20) s.push(r.u32()); // local.get
    else if (op === 0x21 || op === 0x22) {
      const local = r.u32();
      s.drop(1);
      s.written(local);
      if (op === 0x22) s.push(local); // local.tee: its result is the local's new value
    } else if (op === 0x23) {
      r.u32();
      s.push(UNKNOWN);
    } else if (op === 0x24) {
      r.u32();
      s.drop(1);
    } else if (op === 0x25) {
      r.u32(); // table.get
      s.unary();
    } else if (op === 0x26) {
      r.u32(); // table.set
      s.drop(2);
    } else if (op === 0x41) s.push(CONST, r.s32());
    else if (op === 0x42) {
      r.leb();
      s.push(UNKNOWN);
    } else if (op === 0x43) {
      r.skip(4);
      s.push(UNKNOWN);
    } else if (op === 0x44) {
      r.skip(8);
      s.push(UNKNOWN);
    } else if (op === 0x02) {
      // A block is entered from the code before it only: the run goes on (its end is a boundary).
      if (!blocktype(r)) s.sp = 0; // a block with parameters takes values off the stack
    } else if (op === 0x03 || op === 0x04 || op === 0x06) {
      blocktype(r);
      s.boundary();
    } else if (op === 0x0d) {
      r.u32(); // br_if: the run goes on when it does not branch
      s.drop(1);
    } else if (op === 0x10) {
      const f = funcs[r.u32()];
      if (!f) throw new BarrierUnsupported('call of an unknown function');
      s.drop(f.params);
      for (let i = 0; i < f.results; i++) s.push(UNKNOWN);
    } else if (op === 0x11) {
      const t = types[r.u32()];
      r.u32();
      if (!t) throw new BarrierUnsupported('call_indirect of an unknown type');
      s.drop(t.params + 1);
      for (let i = 0; i < t.results; i++) s.push(UNKNOWN);
    } else if (op === 0x1a) s.drop(1);
    else if (op === 0x1b) {
      s.drop(3);
      s.push(UNKNOWN);
    } else if (op === 0x1c) {
      for (let n = r.u32(); n > 0; n--) r.valtype();
      s.drop(3);
      s.push(UNKNOWN);
    } else if (op === 0x01) continue; // nop
    else if (op === 0xd0) {
      r.leb(); // ref.null heaptype
      s.push(UNKNOWN);
    } else if (op === 0xd1) s.unary(); // ref.is_null
    else if (op === 0xd2) {
      r.u32(); // ref.func
      s.push(UNKNOWN);
    } else if (op === 0xfc) bulk(r, start, sites, s);
    else if (op === 0xfd) {
      simd(r, start, sites);
      s.boundary(); // SIMD is not followed: anything after is unknown
    } else {
      // Control flow and the rest: a boundary.
      s.boundary();
      if (op === 0x0c || op === 0x12 || op === 0x14 || op === 0x15 || op === 0xd5 || op === 0xd6) r.u32();
      else if (op === 0x07 || op === 0x08 || op === 0x09 || op === 0x18) r.u32(); // legacy exceptions
      else if (op === 0x13) {
        r.u32();
        r.u32();
      } else if (op === 0x0e) {
        for (let n = r.u32(); n >= 0; n--) r.u32(); // labels + default
      } else if (op === 0x1f) {
        blocktype(r);
        for (let n = r.u32(); n > 0; n--) {
          const kind = r.byte();
          if (kind === 0 || kind === 1) r.u32();
          r.u32();
        }
      } else if (op === 0x00 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f || op === 0x19 || op === 0xd3 || op === 0xd4) continue;
      else throw new BarrierUnsupported(`opcode 0x${op.toString(16)}`);
    }
  }
}

/** Skips a block type; true when the block takes no parameters (empty or a single result). */
function blocktype(r: In): boolean {
  const t = r.buf[r.pos]!;
  if (t === 0x40 || t === 0x7f || t === 0x7e || t === 0x7d || t === 0x7c || t === 0x7b || t === 0x70 || t === 0x6f) {
    r.pos++;
    return true;
  }
  if (t === 0x63 || t === 0x64) {
    r.valtype();
    return true;
  }
  r.leb(); // s33 type index
  return false;
}

function bulk(r: In, start: number, sites: Site[], s: Operands): void {
  const sub = r.u32();
  if (sub <= 7) return s.unary(); // saturating truncations
  if (sub === 8) throw new BarrierUnsupported('memory.init');
  if (sub === 9 || sub === 13) return void r.u32(); // data.drop, elem.drop
  if (sub === 15) {
    r.u32(); // table.grow
    return s.binary();
  }
  if (sub === 16) {
    r.u32(); // table.size
    return s.push(UNKNOWN);
  }
  if (sub === 17) {
    r.u32(); // table.fill
    return s.drop(3);
  }
  if (sub === 12 || sub === 14) {
    r.u32();
    r.u32();
    return s.drop(3);
  }
  if (sub === 10) {
    if (r.u32() !== 0 || r.u32() !== 0) throw new BarrierUnsupported('memory.copy between memories');
    sites.push({ start, end: r.pos, kind: 'copy', offset: 0, width: 0, base: UNKNOWN, value: 0, group: -1 });
    return s.drop(3);
  }
  if (sub === 11) {
    if (r.u32() !== 0) throw new BarrierUnsupported('memory.fill of another memory');
    sites.push({ start, end: r.pos, kind: 'fill', offset: 0, width: 0, base: UNKNOWN, value: 0, group: -1 });
    return s.drop(3);
  }
  throw new BarrierUnsupported(`opcode 0xfc ${sub}`);
}

/** SIMD stores always take the general form (the pass does not follow SIMD operands). */
function simd(r: In, start: number, sites: Site[]): void {
  const sub = r.u32();
  if (sub <= 10 || sub === 92 || sub === 93) return void memarg(r); // loads
  const vstore = (m: { memidx: number; offset: number }, width: number) => {
    if (m.memidx !== 0) throw new BarrierUnsupported('store to another memory');
    sites.push({ start, end: r.pos, kind: V128, offset: m.offset, width, base: UNKNOWN, value: 0, group: -1 });
  };
  if (sub === 11) return vstore(memarg(r), 16);
  if (sub >= 84 && sub <= 91) {
    const m = memarg(r);
    r.byte(); // lane
    if (sub >= 88) vstore(m, 1 << (sub - 88));
    return;
  }
  if (sub === 12 || sub === 13) return void r.skip(16);
  if (sub >= 21 && sub <= 34) r.byte(); // lane ops; the rest take no immediates
}

/**
 * Which sites write a mark. A store whose address is a local's value shares one mark with the
 * other stores of its group whose offsets lie within STORE_REACH of the lowest (the restore copies
 * that far past each marked page), written at the first of them in the code; the mark is of the
 * page of `local + lowest offset` (no store of the group, if it does not trap, writes below it:
 * address + offset does not wrap). Stores to a constant address share the mark of their page.
 */
function planMarks(sites: Site[]): void {
  const groups: Site[][] = [];
  for (const s of sites) if (s.group >= 0) (groups[s.group] ??= []).push(s);
  for (const g of groups) {
    const first = g[0]!;
    if (g.length === 1) {
      first.markAt = first.base === CONST ? 0 : first.offset;
      continue;
    }
    if (first.base === CONST) {
      first.markAt = 0;
      for (let i = 1; i < g.length; i++) g[i]!.covered = true;
      continue;
    }
    // g is in code order; windows are taken in offset order.
    const sorted = g.map((s, i) => ({ s, i })).sort((x, y) => x.s.offset - y.s.offset);
    for (let i = 0; i < sorted.length; ) {
      const low = sorted[i]!.s.offset;
      let j = i;
      let earliest = sorted[i]!;
      for (; j < sorted.length && sorted[j]!.s.offset + sorted[j]!.s.width - low <= STORE_REACH + 1; j++) {
        if (sorted[j]!.i < earliest.i) earliest = sorted[j]!;
        sorted[j]!.s.covered = true;
      }
      earliest.s.covered = false;
      earliest.s.markAt = low;
      i = j;
    }
  }
}

/**
 * Returns the module with the barrier, or why it has none.
 */
export function addWriteBarrier(bytes: Uint8Array): BarrierResult {
  try {
    return rewrite(bytes);
  } catch (e) {
    if (e instanceof BarrierUnsupported) return { reason: e.message };
    throw e;
  }
}

function rewrite(bytes: Uint8Array): BarrierResult {
  if (!multiMemorySupported()) return { reason: 'this engine has no multi-memory' };
  const secs = sectionsOf(bytes);
  const find = (id: number) => secs.find((s) => s.id === id);

  // Parameter counts of function types; function imports; memories.
  const types: Arity[] = [];
  const typeSec = find(1);
  if (typeSec) {
    const r = new In(bytes, typeSec.body);
    for (let n = r.u32(); n > 0; n--) {
      if (r.byte() !== 0x60) throw new BarrierUnsupported('non-function type (GC)');
      const params = r.u32();
      for (let i = 0; i < params; i++) r.valtype();
      const results = r.u32();
      for (let i = 0; i < results; i++) r.valtype();
      types.push({ params, results });
    }
  }
  const funcs: Arity[] = [];
  let funcImports = 0;
  let memories = 0;
  const importSec = find(2);
  if (importSec) {
    const r = new In(bytes, importSec.body);
    for (let n = r.u32(); n > 0; n--) {
      r.name();
      r.name();
      const kind = r.byte();
      if (kind === 0) {
        const t = types[r.u32()];
        if (!t) throw new BarrierUnsupported('import of an unknown type');
        funcs.push(t);
        funcImports++;
      } else if (kind === 1) {
        r.valtype();
        r.limits();
      } else if (kind === 2) {
        if (r.buf[r.pos]! & 0x06) throw new BarrierUnsupported('shared or 64-bit memory');
        r.limits();
        memories++;
      } else if (kind === 3) {
        r.valtype();
        r.byte();
      } else if (kind === 4) {
        r.byte();
        r.u32();
      } else throw new BarrierUnsupported(`import kind ${kind}`);
    }
  }
  const memSec = find(5);
  if (memSec) {
    const r = new In(bytes, memSec.body);
    for (let n = r.u32(); n > 0; n--, memories++) {
      if (r.buf[r.pos]! & 0x06) throw new BarrierUnsupported('shared or 64-bit memory');
      r.limits();
    }
  }
  if (memories === 0) return { reason: 'no memory' };
  if (memories > 1) throw new BarrierUnsupported('more than one memory');
  const MARKS = 1; // index of the added memory

  const funcTypes: number[] = [];
  const funcSec = find(3);
  if (funcSec) {
    const r = new In(bytes, funcSec.body);
    for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
  }
  for (const t of funcTypes) {
    const a = types[t];
    if (!a) throw new BarrierUnsupported('function of an unknown type');
    funcs.push(a);
  }
  const codeSec = find(10);
  const fillFn = funcImports + funcTypes.length;
  const copyFn = fillFn + 1;
  const helperType = types.length;
  funcs.push({ params: 3, results: 0 }, { params: 3, results: 0 });

  // The code section, rewritten.
  const code = new Out(bytes.length + (bytes.length >> 1));
  const body = new Out(1 << 16);
  let stores = 0;
  let marks = 0;
  const bodyCount = codeSec ? new In(bytes, codeSec.body).u32() : 0;
  code.u32(bodyCount + 2);
  if (codeSec) {
    const r = new In(bytes, codeSec.body);
    r.u32();
    const sites: Site[] = [];
    for (let f = 0; f < bodyCount; f++) {
      const size = r.u32();
      const bodyStart = r.pos;
      const bodyEnd = bodyStart + size;
      let locals = types[funcTypes[f]!]!.params;
      const groups = r.u32();
      const groupsEnd = r.pos;
      for (let g = 0; g < groups; g++) {
        locals += r.u32();
        r.valtype();
      }
      const localsEnd = r.pos;
      sites.length = 0;
      scanBody(r, bodyEnd, sites, types, funcs);
      planMarks(sites);
      if (r.pos !== bodyEnd) throw new BarrierUnsupported('body did not end where its size says');
      if (sites.length === 0) {
        code.u32(size);
        code.bytes(bytes.subarray(bodyStart, bodyEnd));
        continue;
      }
      // New locals, for stores whose address is computed: the address, one per stored value type.
      const valueTypes = [...new Set(sites.filter((s) => s.base === UNKNOWN).map((s) => s.kind).filter((k): k is number => typeof k === 'number'))];
      const addr = locals;
      const valueLocal = new Map(valueTypes.map((t, i) => [t, locals + 1 + i]));
      body.len = 0;
      const added = valueTypes.length ? 1 + valueTypes.length : 0;
      body.u32(groups + added);
      body.bytes(bytes.subarray(groupsEnd, localsEnd));
      if (added) {
        body.u32(1);
        body.byte(I32);
      }
      for (const t of valueTypes) {
        body.u32(1);
        body.byte(t);
      }
      const mark = () => {
        body.byte(0x41);
        body.i32(MARK_SHIFT);
        body.byte(0x76); // i32.shr_u
        body.byte(0x41);
        body.i32(1);
        body.byte(0x3a); // i32.store8 to the marks memory
        body.byte(0x40);
        body.u32(MARKS);
        body.u32(0);
      };
      let at = localsEnd;
      for (const s of sites) {
        body.copy(bytes, at, s.start);
        at = s.end;
        if (s.kind === 'fill' || s.kind === 'copy') {
          body.byte(0x10);
          body.u32(s.kind === 'fill' ? fillFn : copyFn);
          continue;
        }
        stores++;
        if (s.base !== UNKNOWN) {
          body.copy(bytes, s.start, s.end); // the store itself
          if (s.covered) continue;
          marks++;
          if (s.base === CONST) {
            // marks[page] = 1, the page known here
            body.byte(0x41);
            body.i32(Math.floor(((s.value >>> 0) + s.offset) / 2 ** MARK_SHIFT));
            body.byte(0x41);
            body.i32(1);
            body.byte(0x3a);
            body.byte(0x40);
            body.u32(MARKS);
            body.u32(0);
            continue;
          }
          body.byte(0x20); // marks[(local + offset) >> 12] = 1
          body.u32(s.base);
          if (s.markAt) {
            body.byte(0x41);
            body.i32(s.markAt);
            body.byte(0x6a);
          }
          mark();
          continue;
        }
        marks++;
        const v = valueLocal.get(s.kind)!;
        body.byte(0x21); // local.set $v
        body.u32(v);
        body.byte(0x22); // local.tee $addr
        body.u32(addr);
        body.byte(0x20); // local.get $v
        body.u32(v);
        body.copy(bytes, s.start, s.end); // the store itself
        body.byte(0x20); // marks[(addr + offset) >> 12] = 1
        body.u32(addr);
        if (s.offset) {
          body.byte(0x41);
          body.i32(s.offset);
          body.byte(0x6a);
        }
        mark();
      }
      body.copy(bytes, at, bodyEnd);
      code.u32(body.len);
      code.bytes(body.view());
    }
  }
  for (const helper of [bulkHelper('fill', MARKS), bulkHelper('copy', MARKS)]) {
    code.u32(helper.length);
    code.bytes(helper);
  }

  const out = new Out(code.len + bytes.length);
  out.bytes(bytes.subarray(0, 8));
  const emit = (id: number, body: Uint8Array) => {
    out.byte(id);
    out.u32(body.length);
    out.bytes(body);
  };
  const rest = (s: Sec) => {
    const r = new In(bytes, s.body);
    const n = r.u32();
    return { n, tail: bytes.subarray(r.pos, s.end) };
  };
  const withAppended = (s: Sec | undefined, extra: number[], count: number) => {
    const b = new Out();
    const { n, tail } = s ? rest(s) : { n: 0, tail: new Uint8Array() };
    b.u32(n + count);
    b.bytes(tail);
    b.bytes(new Uint8Array(extra));
    return b.done();
  };
  const helperTypeBytes = [0x60, 3, I32, I32, I32, 0];
  const marksMemory = [0x01, ...u32Bytes(MARKS_PAGES), ...u32Bytes(MARKS_PAGES)];
  const marksExport = [...u32Bytes(MARKS_EXPORT.length), ...new TextEncoder().encode(MARKS_EXPORT), 0x02, MARKS];
  // Sections in their required order; those we add are written where they belong.
  const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
  const rank = (id: number) => ORDER.indexOf(id);
  const added = new Set<number>();
  const addMissing = (beforeRank: number) => {
    for (const id of [1, 3, 5, 7, 10]) {
      if (added.has(id) || find(id) || rank(id) >= beforeRank) continue;
      added.add(id);
      if (id === 1) emit(1, withAppended(undefined, helperTypeBytes, 1));
      if (id === 3) emit(3, withAppended(undefined, [...u32Bytes(helperType), ...u32Bytes(helperType)], 2));
      if (id === 5) emit(5, withAppended(undefined, marksMemory, 1));
      if (id === 7) emit(7, withAppended(undefined, marksExport, 1));
      if (id === 10) emit(10, code.view());
    }
  };
  for (const s of secs) {
    if (s.id !== 0) addMissing(rank(s.id));
    if (s.id === 1) emit(1, withAppended(s, helperTypeBytes, 1));
    else if (s.id === 3) emit(3, withAppended(s, [...u32Bytes(helperType), ...u32Bytes(helperType)], 2));
    else if (s.id === 5) emit(5, withAppended(s, marksMemory, 1));
    else if (s.id === 7) emit(7, withAppended(s, marksExport, 1));
    else if (s.id === 10) emit(10, code.view());
    else out.bytes(bytes.subarray(s.start, s.end));
    added.add(s.id);
  }
  addMissing(ORDER.length);
  return { bytes: out.done(), marks: MARKS_EXPORT, stores, markWrites: marks };
}

/** `(dest, value|src, n)`: the bulk operation on memory 0, then its pages marked in one fill. */
function bulkHelper(kind: 'fill' | 'copy', marks: number): Uint8Array {
  const b = new Out();
  b.u32(0); // no locals
  const get = (i: number) => {
    b.byte(0x20);
    b.u32(i);
  };
  const c = (n: number) => {
    b.byte(0x41);
    b.i32(n);
  };
  get(0);
  get(1);
  get(2);
  if (kind === 'fill') b.bytes(new Uint8Array([0xfc, 11, 0]));
  else b.bytes(new Uint8Array([0xfc, 10, 0, 0]));
  get(2);
  b.bytes(new Uint8Array([0x04, 0x40])); // if n != 0
  get(0);
  c(MARK_SHIFT);
  b.byte(0x76); // first page
  c(1);
  get(0);
  get(2);
  b.byte(0x6a);
  c(1);
  b.byte(0x6b);
  c(MARK_SHIFT);
  b.byte(0x76); // last page
  get(0);
  c(MARK_SHIFT);
  b.byte(0x76);
  b.byte(0x6b);
  c(1);
  b.byte(0x6a); // count = last - first + 1
  b.bytes(new Uint8Array([0xfc, 11, ...u32Bytes(marks)]));
  b.byte(0x0b); // end if
  b.byte(0x0b); // end func
  return b.done();
}
