/** Unit tests of the core-module rewrite on a hand-assembled module. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCapError, rewriteCoreModule } from '../../../src/host/sandbox/wasm-binary.js';

/** (memory 2) (global (mut i32) (i32.const 7)) (table 3 funcref)
 *  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow) (export "memory" (memory 0)) */
function sampleModule(): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, // type: (i32) -> i32
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x04, 0x04, 0x01, 0x70, 0x00, 0x03, // table: funcref min 3
    0x05, 0x03, 0x01, 0x00, 0x02, // memory: min 2, no max
    0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x07, 0x0b, // global: mut i32 = 7
    0x07, 0x11, 0x02, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // exports
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, // code
  ]);
}

test('rewrite: the memory gets the cap as its maximum; growing past it fails', () => {
  assert.ok(WebAssembly.validate(sampleModule()));
  const { bytes, initialPages } = rewriteCoreModule(sampleModule(), { maxPages: 4, exportState: false });
  assert.deepEqual(initialPages, [2]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const grow = instance.exports.grow as (n: number) => number;
  assert.equal(grow(2), 2);
  assert.equal(grow(1), -1);
  assert.equal((instance.exports.memory as WebAssembly.Memory).buffer.byteLength, 4 * 65536);
});

test('rewrite: without a cap the same module grows freely (the cap is what stops it)', () => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(sampleModule()));
  assert.equal((instance.exports.grow as (n: number) => number)(10), 2);
});

test('rewrite: mutable globals and tables are exported for snapshots', () => {
  const r = rewriteCoreModule(sampleModule(), { maxPages: 4, exportState: true });
  assert.deepEqual(r.globalExports, ['__alga_global_0']);
  assert.deepEqual(r.tableExports, ['__alga_table_0']);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(r.bytes));
  assert.equal((instance.exports.__alga_global_0 as WebAssembly.Global).value, 7);
  assert.equal((instance.exports.__alga_table_0 as WebAssembly.Table).length, 3);
  assert.equal(typeof instance.exports.grow, 'function');
});

test('rewrite: a cap below the initial memory is refused', () => {
  assert.throws(() => rewriteCoreModule(sampleModule(), { maxPages: 1, exportState: false }), MemoryCapError);
});
