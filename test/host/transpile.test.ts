/** The stubbed transpile gives exactly jco's output for the whole component, and refuses to guess. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { stubComponent, stubCoreModule, transpileComponent, unstub } from '../../src/host/transpile.js';
import { buildTestComponent } from '../support/components.js';

const probe = async () => new Uint8Array(readFileSync((await buildTestComponent('scheduler-probe')).wasmPath));

test('transpileComponent: every output file is byte for byte what jco makes of the whole component', { timeout: 120_000 }, async () => {
  const bytes = await probe();
  const fast = await transpileComponent(bytes);
  assert.equal(fast.stubbed, true, 'the componentize-js module is large enough to be stubbed');
  const full = await transpileBytes(bytes, { name: 'component', instantiation: { tag: 'async' } } as Parameters<typeof transpileBytes>[1]);
  assert.deepEqual(Object.keys(fast.files).sort(), Object.keys(full.files).sort());
  for (const [name, data] of Object.entries(full.files)) {
    assert.ok(Buffer.from(fast.files[name]!).equals(Buffer.from(data as Uint8Array)), `${name} differs`);
  }
});

test('stubCoreModule: same imports and exports, valid, a fraction of the size', async () => {
  const { swaps } = stubComponent(await probe());
  assert.ok(swaps.length >= 1);
  for (const { module, stub } of swaps) {
    const asBuffer = (b: Uint8Array) => new Uint8Array(b);
    assert.ok(WebAssembly.validate(asBuffer(stub)));
    const [m, s] = [new WebAssembly.Module(asBuffer(module)), new WebAssembly.Module(asBuffer(stub))];
    assert.deepEqual(WebAssembly.Module.imports(s), WebAssembly.Module.imports(m));
    assert.deepEqual(WebAssembly.Module.exports(s), WebAssembly.Module.exports(m));
    assert.ok(stub.length * 20 < module.length, `${stub.length} vs ${module.length}`);
    assert.ok(Buffer.from(stubCoreModule(module)).equals(Buffer.from(stub)), 'deterministic');
  }
});

test('unstub: a stub missing from the output, or found twice, means the output is not trusted', () => {
  const module = new Uint8Array([1, 2, 3]);
  const stub = new Uint8Array([9, 9]);
  const swaps = [{ module, stub }];
  assert.deepEqual(unstub({ 'a.js': new Uint8Array([0]), 'c.core.wasm': stub }, swaps), { 'a.js': new Uint8Array([0]), 'c.core.wasm': module });
  assert.equal(unstub({ 'c.core.wasm': new Uint8Array([9, 8]) }, swaps), null);
  assert.equal(unstub({ 'c.core.wasm': stub, 'c.core2.wasm': stub }, swaps), null);
});

test('stubComponent: a component without a large core module is left as it is', () => {
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
  const out = stubComponent(empty);
  assert.equal(out.swaps.length, 0);
  assert.equal(out.component, empty);
});
