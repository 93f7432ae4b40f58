/**
 * A write barrier added to a core module's code, so a restore copies back only the pages an
 * execution wrote instead of comparing the whole memory (see snapshot.ts):
 * - every store to memory 0 also writes 1 into a second memory, `__alga_marks`, at the index of the
 *   4 KiB page it wrote (a store reaching into the next page is covered by the restore: it copies
 *   16 bytes past every marked page);
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
/** Changes whenever the pass writes different bytes (the disk cache of its output is keyed by it). */
export const BARRIER_REVISION = 1;
/** The marks memory covers any wasm32 memory (4 GiB: 1 Mi marks), whatever the cap, so one
 * rewrite serves every cap; pages never marked are never touched, so they take no RAM. */
const MARKS_PAGES = 16;

export class BarrierUnsupported extends Error {}

/** Why the module got no barrier (instances are then compared in full), or what was added. */
export type BarrierResult = { bytes: Uint8Array<ArrayBuffer>; marks: typeof MARKS_EXPORT; stores: number; reason?: undefined } | { bytes?: undefined; reason: string };

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
}

function memarg(r: In): { memidx: number; offset: number } {
  const flags = r.u32();
  const memidx = flags & 0x40 ? r.u32() : 0;
  const offset = r.u32();
  return { memidx, offset };
}

/** Finds the stores and bulk writes of one body (instructions from `r.pos` to `end`). */
function scanBody(r: In, end: number, sites: Site[]): void {
  while (r.pos < end) {
    const start = r.pos;
    const op = r.byte();
    if (op >= 0x28 && op <= 0x35) memarg(r); // loads
    else if (op >= 0x36 && op <= 0x3e) {
      const m = memarg(r);
      if (m.memidx !== 0) throw new BarrierUnsupported('store to another memory');
      sites.push({ start, end: r.pos, kind: STORE_TYPE[op]!, offset: m.offset });
    } else if (op === 0x3f || op === 0x40) r.u32(); // memory.size / memory.grow
    else if (op >= 0x45 && op <= 0xc4) continue; // numeric, no immediates
    else if (op === 0x20 || op === 0x21 || op === 0x22 || op === 0x23 || op === 0x24 || op === 0x25 || op === 0x26) r.u32();
    else if (op === 0x41 || op === 0x42) r.leb();
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) blocktype(r);
    else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0x14 || op === 0x15 || op === 0xd2 || op === 0xd5 || op === 0xd6) r.u32();
    else if (op === 0x07 || op === 0x08 || op === 0x09 || op === 0x18) r.u32(); // legacy exceptions
    else if (op === 0x11 || op === 0x13) {
      r.u32();
      r.u32();
    } else if (op === 0x0e) {
      for (let n = r.u32(); n >= 0; n--) r.u32(); // labels + default
    } else if (op === 0x1c) {
      for (let n = r.u32(); n > 0; n--) r.valtype();
    } else if (op === 0xd0) r.leb(); // ref.null heaptype
    else if (op === 0x1f) {
      blocktype(r);
      for (let n = r.u32(); n > 0; n--) {
        const kind = r.byte();
        if (kind === 0 || kind === 1) r.u32();
        r.u32();
      }
    } else if (op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b || op === 0xd1 || op === 0xd3 || op === 0xd4) continue;
    else if (op === 0xfc) bulk(r, start, sites);
    else if (op === 0xfd) simd(r, start, sites);
    else throw new BarrierUnsupported(`opcode 0x${op.toString(16)}`);
  }
}

function blocktype(r: In): void {
  const t = r.buf[r.pos]!;
  if (t === 0x40 || t === 0x7f || t === 0x7e || t === 0x7d || t === 0x7c || t === 0x7b || t === 0x70 || t === 0x6f) r.pos++;
  else if (t === 0x63 || t === 0x64) r.valtype();
  else r.leb(); // s33 type index
}

function bulk(r: In, start: number, sites: Site[]): void {
  const sub = r.u32();
  if (sub <= 7) return; // saturating truncations
  if (sub === 8) throw new BarrierUnsupported('memory.init');
  if (sub === 9 || sub === 13 || sub === 15 || sub === 16 || sub === 17) return void r.u32();
  if (sub === 12 || sub === 14) {
    r.u32();
    r.u32();
    return;
  }
  if (sub === 10) {
    if (r.u32() !== 0 || r.u32() !== 0) throw new BarrierUnsupported('memory.copy between memories');
    sites.push({ start, end: r.pos, kind: 'copy', offset: 0 });
    return;
  }
  if (sub === 11) {
    if (r.u32() !== 0) throw new BarrierUnsupported('memory.fill of another memory');
    sites.push({ start, end: r.pos, kind: 'fill', offset: 0 });
    return;
  }
  throw new BarrierUnsupported(`opcode 0xfc ${sub}`);
}

function simd(r: In, start: number, sites: Site[]): void {
  const sub = r.u32();
  if (sub <= 10 || sub === 92 || sub === 93) return void memarg(r); // loads
  if (sub === 11) {
    const m = memarg(r);
    if (m.memidx !== 0) throw new BarrierUnsupported('store to another memory');
    sites.push({ start, end: r.pos, kind: V128, offset: m.offset });
    return;
  }
  if (sub >= 84 && sub <= 91) {
    const m = memarg(r);
    r.byte(); // lane
    if (sub >= 88) {
      if (m.memidx !== 0) throw new BarrierUnsupported('store to another memory');
      sites.push({ start, end: r.pos, kind: V128, offset: m.offset });
    }
    return;
  }
  if (sub === 12 || sub === 13) return void r.skip(16);
  if (sub >= 21 && sub <= 34) r.byte(); // lane ops; the rest take no immediates
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
  const params: number[] = [];
  const typeSec = find(1);
  if (typeSec) {
    const r = new In(bytes, typeSec.body);
    for (let n = r.u32(); n > 0; n--) {
      if (r.byte() !== 0x60) throw new BarrierUnsupported('non-function type (GC)');
      const p = r.u32();
      for (let i = 0; i < p; i++) r.valtype();
      for (let i = r.u32(); i > 0; i--) r.valtype();
      params.push(p);
    }
  }
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
        r.u32();
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
  const codeSec = find(10);
  const fillFn = funcImports + funcTypes.length;
  const copyFn = fillFn + 1;
  const helperType = params.length;

  // The code section, rewritten.
  const code = new Out(bytes.length + (bytes.length >> 1));
  const body = new Out(1 << 16);
  let stores = 0;
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
      let locals = params[funcTypes[f]!]!;
      const groups = r.u32();
      const groupsEnd = r.pos;
      for (let g = 0; g < groups; g++) {
        locals += r.u32();
        r.valtype();
      }
      const localsEnd = r.pos;
      sites.length = 0;
      scanBody(r, bodyEnd, sites);
      if (r.pos !== bodyEnd) throw new BarrierUnsupported('body did not end where its size says');
      if (sites.length === 0) {
        code.u32(size);
        code.bytes(bytes.subarray(bodyStart, bodyEnd));
        continue;
      }
      // New locals: the address, and one per stored value type.
      const types = [...new Set(sites.map((s) => s.kind).filter((k): k is number => typeof k === 'number'))];
      const addr = locals;
      const valueLocal = new Map(types.map((t, i) => [t, locals + 1 + i]));
      body.len = 0;
      body.u32(groups + 1 + types.length);
      body.bytes(bytes.subarray(groupsEnd, localsEnd));
      body.u32(1);
      body.byte(I32);
      for (const t of types) {
        body.u32(1);
        body.byte(t);
      }
      let at = localsEnd;
      for (const s of sites) {
        body.bytes(bytes.subarray(at, s.start));
        at = s.end;
        if (s.kind === 'fill' || s.kind === 'copy') {
          body.byte(0x10);
          body.u32(s.kind === 'fill' ? fillFn : copyFn);
          continue;
        }
        stores++;
        const v = valueLocal.get(s.kind)!;
        body.byte(0x21); // local.set $v
        body.u32(v);
        body.byte(0x22); // local.tee $addr
        body.u32(addr);
        body.byte(0x20); // local.get $v
        body.u32(v);
        body.bytes(bytes.subarray(s.start, s.end)); // the store itself
        body.byte(0x20); // marks[(addr + offset) >> 12] = 1
        body.u32(addr);
        if (s.offset) {
          body.byte(0x41);
          body.i32(s.offset);
          body.byte(0x6a);
        }
        body.byte(0x41);
        body.i32(MARK_SHIFT);
        body.byte(0x76);
        body.byte(0x41);
        body.i32(1);
        body.byte(0x3a);
        body.byte(0x40);
        body.u32(MARKS);
        body.u32(0);
      }
      body.bytes(bytes.subarray(at, bodyEnd));
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
  return { bytes: out.done(), marks: MARKS_EXPORT, stores };
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
