/**
 * Restores by marks (the write barrier, Node >= 22): after any execution the marked pages alone
 * bring memory back to the snapshot byte for byte, and a write the marks miss is found by the
 * periodic full compare, which then stops trusting them. The probe runs in this thread on its real
 * glue and WASI shim, so both the guest's stores and the glue's writes (request, import results)
 * are covered.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { ComponentCache } from '../../../src/host/component-cache.js';
import { ReadyInstances, type GuestExports } from '../../../src/host/sandbox/ready-instances.js';
import { CoreInstantiation, InstanceSnapshot, trackSuspending, VERIFY_EVERY, type CoreInstanceState } from '../../../src/host/sandbox/snapshot.js';
import { IN_GUEST_INTERFACES } from '../../../src/host/interfaces/in-guest.js';
import { jspiAvailable } from '../../../src/config.js';
import { addWriteBarrier, BARRIER_REVISION, multiMemorySupported } from '../../../src/host/sandbox/write-barrier.js';
import { u32Bytes } from '../../../src/host/sandbox/wasm-binary.js';
import { WORLD_IMPORTS } from '../../../src/host/world.js';
import { sha256Hex } from '../../../src/shared/content-hash.js';
import { projectRoot } from '../../support/components.js';
import { probeComponent } from './support.js';

/** A module with the writes a barrier must see (a WAT sketch beside each function), and the JS
 * writes the glue makes; instantiated through CoreInstantiation like a component's cores. */
function tinyModule() {
  const u32 = u32Bytes;
  const sleb = (n: number): number[] => {
    const out: number[] = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const sec = (id: number, body: number[]) => [id, ...u32(body.length), ...body];
  const vec = (items: number[][]) => [...u32(items.length), ...items.flat()];
  const str = (t: string) => [...u32(t.length), ...new TextEncoder().encode(t)];
  const I32 = 0x7f;
  const I64 = 0x7e;
  const types = [
    [0x60, 1, I32, 0], // 0 (i32)
    [0x60, 2, I32, I64, 0], // 1 (i32 i64)
    [0x60, 3, I32, I32, I32, 0], // 2 (i32 i32 i32)
    [0x60, 4, I32, I32, I32, I32, 1, I32], // 3 (i32 i32 i32 i32) -> i32
    [0x60, 2, I32, I32, 0], // 4 (i32 i32)
  ];
  const body = (code: number[]) => [...u32(code.length + 1), 0, ...code];
  const get = (i: number) => [0x20, i];
  const funcs: { type: number; name: string; code: number[] }[] = [
    { type: 0, name: 'callHost', code: [...get(0), 0x10, 0, 0x0b] }, // call $host.write
    { type: 1, name: 'st64', code: [...get(0), ...get(1), 0x37, 3, 0, 0x0b] }, // i64.store
    { type: 4, name: 'st32off', code: [...get(0), ...get(1), 0x36, 2, ...u32(8 * 4096 + 12), 0x0b] }, // i32.store offset=32780
    { type: 2, name: 'fill', code: [...get(0), ...get(1), ...get(2), 0xfc, 11, 0, 0x0b] }, // memory.fill
    { type: 2, name: 'copy', code: [...get(0), ...get(1), ...get(2), 0xfc, 10, 0, 0, 0x0b] }, // memory.copy
    { type: 3, name: 'cabi_realloc', code: [0x41, ...sleb(14 * 4096 + 5), 0x0b] }, // a fixed buffer
    // Stores from one local share a mark; each must still be covered.
    // block  i32.store offset=40 (p) 1  br_if 0 (c)  i32.store offset=0 (p) 2  end
    { type: 4, name: 'shared', code: [0x02, 0x40, ...get(0), 0x41, 1, 0x36, 2, 40, ...get(1), 0x0d, 0, ...get(0), 0x41, 2, 0x36, 2, 0, 0x0b, 0x0b] },
    // i32.store (p) 1  i32.store offset=12288 (p) 2: too far apart for one mark
    { type: 0, name: 'far', code: [...get(0), 0x41, 1, 0x36, 2, 0, ...get(0), 0x41, 2, 0x36, 2, ...u32(3 * 4096), 0x0b] },
    // i32.store (p) (local.tee p (q))  i32.store offset=8 (p) 3: the address is p's old value
    { type: 4, name: 'teeInValue', code: [...get(0), ...get(1), 0x22, 0, 0x36, 2, 0, ...get(0), 0x41, 3, 0x36, 2, 8, 0x0b] },
    // i32.store (p) 1  local.set p (q)  i32.store offset=4 (p) 2
    { type: 4, name: 'setBetween', code: [...get(0), 0x41, 1, 0x36, 2, 0, ...get(1), 0x21, 0, ...get(0), 0x41, 2, 0x36, 2, 4, 0x0b] },
    // i32.store offset=4100 (local.tee p (q)) 7  i32.store (p) 8
    { type: 4, name: 'teeAddress', code: [...get(1), 0x22, 0, 0x41, 7, 0x36, 2, ...u32(4100), ...get(0), 0x41, 8, 0x36, 2, 0, 0x0b] },
    // i32.store offset=4096 (i32.const 21*4096+8) (v)  i32.store offset=4 (i32.const 21*4096+8) (v)
    { type: 0, name: 'constAddress', code: [0x41, ...sleb(21 * 4096 + 100), ...get(0), 0x36, 2, ...u32(4096), 0x41, ...sleb(21 * 4096 + 100), ...get(0), 0x36, 2, 4, 0x0b] },
    // i32.store (p) c  loop  i32.store (p) c  p += 4096  br_if 0 (c -= 1)  end: each turn writes another page
    { type: 4, name: 'loop', code: [...get(0), ...get(1), 0x36, 2, 0, 0x03, 0x40, ...get(0), ...get(1), 0x36, 2, 0, ...get(0), 0x41, ...sleb(4096), 0x6a, 0x21, 0, ...get(1), 0x41, 1, 0x6b, 0x22, 1, 0x0d, 0, 0x0b, 0x0b] },
  ];
  const bytes = new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...sec(1, vec(types)),
    ...sec(2, vec([[...str('host'), ...str('write'), 0, 0]])),
    ...sec(3, vec(funcs.map((f) => [f.type]))),
    ...sec(5, vec([[0, 2]])), // (memory 2)
    ...sec(7, vec([[...str('memory'), 2, 0], ...funcs.map((f, i) => [...str(f.name), 0, i + 1])])),
    ...sec(10, vec(funcs.map((f) => body(f.code)))),
  ]);
  const barrier = addWriteBarrier(bytes);
  assert.ok(barrier.bytes, barrier.reason);
  const module = new WebAssembly.Module(barrier.bytes);
  let memory: WebAssembly.Memory | undefined;
  const inst = new CoreInstantiation(() => ({ globals: [], tables: [], marks: barrier.marks }));
  const host = { write: (p: number) => void new Uint8Array(memory!.buffer).fill(0x77, p, p + 40) };
  const exports = inst.instantiateCore(module, { host }).exports as Record<string, (...a: unknown[]) => unknown>;
  memory = exports.memory as unknown as WebAssembly.Memory;
  new Uint8Array(memory.buffer).fill(0x11, 5 * 4096, 6 * 4096 + 100); // source of the copy
  const snapshot = new InstanceSnapshot(memory, inst.cores, inst.marked, Infinity);
  return { exports, memory, snapshot, saved: new Uint8Array(memory.buffer).slice(), cores: inst.cores };
}

const skip = multiMemorySupported() ? false : `no multi-memory in Node ${process.version}: restores compare the whole memory`;

type Instantiate = (g: (n: string) => WebAssembly.Module, i: unknown, c: CoreInstantiation['instantiateCore']) => GuestExports;

// As a sandbox worker does, before any glue runs: the JSPI glue's Suspending imports get marked too.
trackSuspending();
/** The glues of this Node: the sync one, and jco's JSPI glue (its I/O imports async) where it runs. */
const GLUES = jspiAvailable() ? [false, true] : [false];
const glueName = (jspi: boolean) => (jspi ? 'JSPI glue, async I/O imports' : 'sync glue');

/** The probe instantiated in this thread, with data-only imports answered and the rest failing
 * (with the JSPI glue the I/O imports are async: the glue writes their results on resuming). */
async function probeInThread(writeBarrier = true, jspi = false) {
  const bytes = await probeComponent();
  const cache = new ComponentCache({ cacheDir: join(projectRoot(), '.alga', 'cache'), source: { load: async () => bytes }, writeBarrier, jspi });
  const loaded = await cache.get({ tenantId: 't', extensionId: 'probe', contentHash: `sha256:${sha256Hex(bytes)}` });
  assert.equal(loaded.jspi, jspi, 'the glue asked for');
  const variant = await loaded.variant(64);
  const glue = (await import(pathToFileURL(join(variant.glueDir, 'component.js')).href)) as { instantiate: Instantiate };
  const alga: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
  for (const [iface, fns] of Object.entries(WORLD_IMPORTS)) {
    alga[iface] = {};
    for (const fn of fns) alga[iface][fn] = () => { throw 'denied'; }; // a WIT error where the function returns a result
  }
  // Answers differ on every call, so the glue's writes of them differ from what the snapshot holds.
  let n = 0;
  alga['alga:extension/context']!.getContext = () => ({ requestId: `req-${++n}`, tenantId: `tenant-${n}`, extensionId: 'probe', installId: `install-${n}`, versionId: undefined });
  alga['alga:extension/secrets']!.get = (key: unknown) => `secret ${++n} of ${String(key)} `.repeat(200);
  for (const fn of ['logInfo', 'logWarn', 'logError']) alga['alga:extension/logging']![fn] = () => {};
  alga['alga:extension/scheduler']!.createSchedule = () => ({ success: true, scheduleId: `schedule ${++n} `.repeat(100) });
  if (jspi) {
    for (const [iface, fns] of Object.entries(alga)) {
      if (IN_GUEST_INTERFACES[iface as keyof typeof IN_GUEST_INTERFACES]) continue;
      for (const [fn, f] of Object.entries(fns)) fns[fn] = async (...a: unknown[]) => (await new Promise((r) => setImmediate(r)), f(...a));
    }
  }
  const wasi = new WASIShim({ sandbox: { preopens: {}, env: {}, args: ['x'], enableNetwork: false } } as ConstructorParameters<typeof WASIShim>[0]).getImportObject();
  const nameOf = new Map([...Object.entries(variant.modules)].map(([n, m]) => [m, n]));
  const create = () => {
    const cores = new CoreInstantiation((m) => variant.stateExports[nameOf.get(m)!]);
    const guest = glue.instantiate((n) => variant.modules[n]!, { ...wasi, ...alga }, cores.instantiateCore);
    return { guest, cores: cores.cores, marked: cores.marked };
  };
  return { create };
}

const request = (method: string, url: string, body?: unknown) => ({
  context: { requestId: 'r', tenantId: 't', extensionId: 'probe' },
  http: { method, url, headers: [{ name: 'x-test', value: 'v'.repeat(300) }], body: body === undefined ? undefined : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)) },
});

/** Requests that write in many places: the request itself, import results, allocations, strings;
 * each round's content differs (`c`), so no write repeats what the snapshot holds. */
const requests = (c: string) => [
  request('GET', `/counter?${c}`),
  request('GET', '/time'),
  request('POST', '/echo', c.repeat(10)),
  request('POST', '/echo', c.repeat(20_000)),
  request('PUT', `/items/${c}?q=${c}`, { a: [1, 2, c] }),
  request('POST', '/probe', { calls: [{ fn: 'context.get-context', args: [] }, { fn: 'secrets.get', args: [`key-${c}`] }, { fn: 'logging.log-info', args: [c] }, { fn: 'storage.get', args: ['ns', c] }] }),
  request('POST', '/probe', { calls: [{ fn: 'scheduler.create-schedule', args: [{ endpoint: `/${c}`, cron: '* * * * *' }] }, { fn: 'context.get-context', args: [] }] }),
  request('GET', `/nowhere/${c}`),
];
const REQUESTS = requests('a');

function memoryOf(cores: CoreInstanceState[]): WebAssembly.Memory {
  for (const c of cores) if (c.instance.exports.memory instanceof WebAssembly.Memory) return c.instance.exports.memory;
  throw new Error('no memory');
}

async function snapshotted(create: Awaited<ReturnType<typeof probeInThread>>['create'], verifyEvery?: number) {
  const { guest, cores, marked } = create();
  await guest.handler(request('GET', '/.well-known/alga-runner/warmup'));
  for (const r of REQUESTS) await guest.handler(r); // memory grown to what they need: restores are not refused
  const memory = memoryOf(cores);
  const snapshot = new InstanceSnapshot(memory, cores, marked, verifyEvery);
  return { guest, memory, snapshot, saved: new Uint8Array(memory.buffer).slice() };
}

describe('write barrier', { skip }, () => {
  for (const jspi of GLUES) {
    test(`the marked pages alone restore memory byte for byte, after every kind of request (${glueName(jspi)})`, async () => {
      const s = await snapshotted((await probeInThread(true, jspi)).create, Infinity);
      assert.equal(s.snapshot.byMarks, true);
      for (const c of ['b', 'c', 'd']) {
        for (const r of requests(c)) {
          await s.guest.handler(r);
          assert.equal(s.snapshot.refusal(), undefined, `${r.http.method} ${r.http.url}`);
          assert.equal(s.snapshot.restore(), undefined);
          const now = new Uint8Array(s.memory.buffer);
          const firstDiff = now.findIndex((b, i) => b !== s.saved[i]);
          assert.equal(firstDiff, -1, `${r.http.method} ${r.http.url}: page ${firstDiff >> 12} differs from the snapshot after the restore`);
        }
      }
    });

    test(`a write the marks miss is undone by the periodic full compare, which then stops using marks (${glueName(jspi)})`, async () => {
      const s = await snapshotted((await probeInThread(true, jspi)).create);
      const page = 3; // the marks never see this write: it bypasses both the barrier and the glue
      let reported: string | undefined;
      let restores = 0;
      await s.guest.handler(REQUESTS[0]!);
      new Uint8Array(s.memory.buffer)[page * 4096 + 100]! ^= 0xff;
      for (; restores < VERIFY_EVERY && !reported; restores++) reported = s.snapshot.restore();
      assert.match(reported ?? 'nothing reported', /write barrier missed a write to page 3/);
      assert.ok(restores <= VERIFY_EVERY);
      assert.deepEqual(new Uint8Array(s.memory.buffer), s.saved);
      assert.equal(s.snapshot.byMarks, false);
    });

    test(`ReadyInstances discards an instance whose marks missed a write, and compares in full from then on (${glueName(jspi)})`, async () => {
      const { create } = await probeInThread(true, jspi);
      const ready = new ReadyInstances('snapshot');
      ready.register('probe', create, async (g) => (await g.handler(request('GET', '/.well-known/alga-runner/warmup')), true));
      let reason: string | undefined;
      for (let i = 0; i < VERIFY_EVERY && !reason; i++) {
        const inst = await ready.take('probe');
        assert.equal(inst.snapshot!.byMarks, true);
        await inst.guest.handler(REQUESTS[0]!);
        if (i === 0) new Uint8Array(inst.memory.buffer)[3 * 4096]! ^= 0xff;
        reason = ready.release('probe', inst, true);
        for (let t = 0; t < 3; t++) await new Promise((res) => setImmediate(res)); // the refill (its warm-up may be async)
      }
      assert.match(reason ?? 'none', /write barrier missed a write/);
      const next = await ready.take('probe');
      assert.equal(next.snapshot!.byMarks, false);
    });

  }

  test('unit: stores, fills, copies, and the glue\'s writes at import pointers and realloc buffers are all restored', () => {
    const { exports, memory, snapshot, saved, cores } = tinyModule();
    assert.equal(snapshot.byMarks, true);
    const dirty = () => {
      const now = new Uint8Array(memory.buffer);
      const pages = new Set<number>();
      now.forEach((b, i) => b !== saved[i] && pages.add(i >> 12));
      return [...pages];
    };
    const check = (what: string, f: () => void) => {
      f();
      assert.notDeepEqual(dirty(), [], `${what} changed nothing`);
      assert.equal(snapshot.restore(), undefined);
      assert.deepEqual(dirty(), [], `${what}: pages still differ after the restore`);
    };
    check('i64.store across a page boundary', () => exports.st64(3 * 4096 - 4, -1n));
    check('i32.store with an offset', () => exports.st32off(4096, 9));
    check('memory.fill over pages', () => exports.fill(5 * 4096 + 10, 0xab, 3 * 4096));
    check('memory.copy', () => exports.copy(9 * 4096 + 1, 5 * 4096, 4096 + 50)); // copies the snapshot's own bytes: filled first
    check('a JS write at a pointer the guest passed to an import', () => exports.callHost(12 * 4096 + 7));
    check('two stores from one local, the first at the higher offset, the other skipped by br_if', () => exports.shared(8 * 4096 - 20, 1));
    check('two stores from one local, both run, across a page boundary', () => exports.shared(8 * 4096 - 20, 0));
    check('two stores from one local three pages apart', () => exports.far(10 * 4096 + 8));
    check('a store whose address local is rewritten while its value is computed', () => exports.teeInValue(16 * 4096 + 4, 18 * 4096));
    check('stores before and after the address local is set', () => exports.setBetween(19 * 4096 + 4, 24 * 4096 + 4092));
    check('stores at a local.tee address', () => exports.teeAddress(0, 26 * 4096 - 2));
    check('stores at constant addresses', () => exports.constAddress(0x12345678));
    check('a store in a loop', () => exports.loop(28 * 4096 + 100, 3));
    check('a JS write into a buffer from realloc', () => {
      const p = exports.cabi_realloc(0, 0, 1, 3 * 4096) as number;
      new Uint8Array(memory.buffer).fill(0x5a, p, p + 3 * 4096);
    });
    void cores;
  });

  test('the pass runs once per component: its output is kept beside the transpiled component and used by every cap', async () => {
    const bytes = await probeComponent();
    const cache = new ComponentCache({ cacheDir: join(projectRoot(), '.alga', 'cache'), source: { load: async () => bytes } });
    const loaded = await cache.get({ tenantId: 't', extensionId: 'probe', contentHash: `sha256:${sha256Hex(bytes)}` });
    const small = await loaded.variant(32);
    const large = await loaded.variant(512);
    const marked = Object.entries(small.stateExports).filter(([, st]) => st.marks).map(([name]) => name);
    assert.ok(marked.length > 0, 'no module got the barrier');
    assert.deepEqual(Object.entries(large.stateExports).filter(([, st]) => st.marks).map(([name]) => name), marked);
    for (const name of marked) assert.ok(existsSync(join(loaded.glueDir, `barrier-r${BARRIER_REVISION}`, name)), `${name} has no kept copy`);
  });

  test('modules the pass cannot read are left as they are (their instances are compared in full)', () => {
    const atomics = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1, 10, 11, 1, 9, 0, 0x41, 0, 0xfe, 0x10, 2, 0, 0x1a, 0x0b]);
    assert.match(addWriteBarrier(atomics).reason ?? '', /opcode 0xfe/);
    const noMemory = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    assert.equal(addWriteBarrier(noMemory).reason, 'no memory');
  });
});

for (const jspi of GLUES) test(`without the barrier (or on an engine without multi-memory) restores compare the whole memory (${glueName(jspi)})`, async () => {
  const s = await snapshotted((await probeInThread(false, jspi)).create);
  assert.equal(s.snapshot.byMarks, false);
  await s.guest.handler(REQUESTS[3]!);
  assert.equal(s.snapshot.restore(), undefined);
  assert.deepEqual(new Uint8Array(s.memory.buffer), s.saved);
});
