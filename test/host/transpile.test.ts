/** The stubbed transpile gives exactly jco's output for the whole component, and refuses to guess. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { IO_IMPORTS, PATCHED_DEBUG_LOG, patchGlue, patchHostImports, stubComponent, stubCoreModule, transpileComponent, unstub, verifyJspiGlue } from '../../src/host/transpile.js';
import { buildTestComponent } from '../support/components.js';
import { u32Bytes } from '../../src/host/sandbox/wasm-binary.js';

const probe = async () => new Uint8Array(readFileSync((await buildTestComponent('scheduler-probe')).wasmPath));
let jcoGlue: Promise<{ files: Record<string, Uint8Array>; glue: string }> | undefined;
/** jco's own transpile of the whole probe, unpatched (once per file). */
const fullTranspile = () =>
  (jcoGlue ??= probe().then(async (bytes) => {
    const { files } = await transpileBytes(bytes, { name: 'component', instantiation: { tag: 'async' } } as Parameters<typeof transpileBytes>[1]);
    return { files: files as Record<string, Uint8Array>, glue: Buffer.from(files['component.js']!).toString('utf8') };
  }));
/** The numbers of the trampolines patchHostImports rewrites: `alga:extension/*` and the WASI clocks' now and resolution. */
const directTrampolines = (glue: string) =>
  [...glue.matchAll(/_trampoline(\d+)\.fnName = '(?:alga:extension\/|wasi:clocks\/(?:monotonic-clock|wall-clock)@[^#']+#(?:now|resolution))/g)].map((m) => m[1]!);
const CONTEXT = /_trampoline(\d+)\.fnName = 'alga:extension\/context#getContext'/;
const MONOTONIC_NOW = /_trampoline(\d+)\.fnName = 'wasi:clocks\/monotonic-clock@[^#']+#now'/;

// The probe's build (a componentize run of 95 s on a loaded machine, on a clean clone) and jco's
// reference transpile are set-up, outside the tests' time.
before(async () => {
  await fullTranspile();
});

test('transpileComponent: every output file is byte for byte what jco makes of the whole component (the glue with its debug helper patched and its host imports called directly)', { timeout: 120_000 }, async () => {
  const bytes = await probe();
  const fast = await transpileComponent(bytes);
  assert.equal(fast.stubbed, true, 'the componentize-js module is large enough to be stubbed');
  assert.equal(fast.gluePatched, true, 'this jco\'s glue has the debug helper the patch knows');
  const full = await fullTranspile();
  assert.equal(fast.keptImports, 0, 'this jco\'s trampolines all have the shape the patch knows');
  assert.equal(fast.directImports, directTrampolines(full.glue).length);
  assert.deepEqual(Object.keys(fast.files).sort(), Object.keys(full.files).sort());
  for (const [name, data] of Object.entries(full.files)) {
    const expected = name === 'component.js' ? Buffer.from(patchHostImports(patchGlue(full.glue)!).js, 'utf8') : Buffer.from(data);
    assert.ok(Buffer.from(fast.files[name]!).equals(expected), `${name} differs`);
  }
  const glue = Buffer.from(fast.files['component.js']!).toString('utf8');
  assert.ok(glue.includes(PATCHED_DEBUG_LOG));
  assert.ok(!/env\?\.JCO_DEBUG\) \{ return; \}/.test(glue), 'no per-call read of process.env is left');
  for (const n of directTrampolines(glue)) assert.ok(glue.includes(`let trampoline${n} = _trampoline${n};`), `trampoline ${n} is bound directly`);
});

test('transpileComponent with jspi: jco\'s JSPI glue, verified: every I/O import suspends, the data-only ones stay sync and patched, the handler is async', { timeout: 120_000 }, async () => {
  const bytes = await probe();
  const sync = await transpileComponent(bytes);
  const jspi = await transpileComponent(bytes, { jspi: true });
  assert.equal(jspi.jspi, true, 'this jco\'s JSPI output has the shape the worker relies on');
  assert.equal(sync.jspi, false);
  assert.equal(jspi.asyncImports, IO_IMPORTS.length, 'the probe imports every I/O function of the world');
  assert.equal(jspi.stubbed, true);
  // The data-only trampolines and the clocks are patched as in the sync glue; the I/O ones are async, left to jco.
  assert.equal(jspi.gluePatched, true);
  assert.equal(jspi.directImports, sync.directImports - IO_IMPORTS.length);
  assert.equal(jspi.keptImports, IO_IMPORTS.length);
  const glue = Buffer.from(jspi.files['component.js']!).toString('utf8');
  assert.ok(glue.includes(PATCHED_DEBUG_LOG));
  assert.deepEqual(verifyJspiGlue(glue), { ok: true, asyncImports: IO_IMPORTS.length });
  const n = CONTEXT.exec(glue)![1]!;
  assert.ok(glue.includes(`let trampoline${n} = _trampoline${n};`), 'context.get-context is bound directly, synchronously');
  // Same core modules: only the glue differs.
  for (const [name, data] of Object.entries(sync.files)) if (name.endsWith('.wasm')) assert.ok(Buffer.from(data).equals(Buffer.from(jspi.files[name]!)), name);
});

test('verifyJspiGlue: glue of another shape is refused (the sync glue and the bridge are used)', async () => {
  const jspi = Buffer.from((await transpileComponent(await probe(), { jspi: true })).files['component.js']!).toString('utf8');
  const { glue: syncGlue } = await fullTranspile();
  assert.equal(verifyJspiGlue(syncGlue).ok, false, 'the sync glue');
  const oneSync = jspi.replace(/^( *_trampoline\d+\.manuallyAsync = true;)$/m, '');
  assert.match((verifyJspiGlue(oneSync) as { reason: string }).reason, /is not async/);
  const handlerSync = jspi.replace(/WebAssembly\.promising\((exports\d+\.handler)\)/, '$1');
  assert.match((verifyJspiGlue(handlerSync) as { reason: string }).reason, /promising/);
  const dataAsync = jspi.replace(/^( *)(_trampoline(\d+)\.fnName = 'alga:extension\/context#getContext';)$/m, '$1$2\n$1_trampoline$3.manuallyAsync = true;');
  assert.match((verifyJspiGlue(dataAsync) as { reason: string }).reason, /getContext is async/);
});

test('patchHostImports: each trampoline loses its task bookkeeping and keeps the may-leave check, the host call and the trap marking', async () => {
  const { glue } = await fullTranspile();
  const out = patchHostImports(glue);
  const n = CONTEXT.exec(glue)![1]!;
  const fn = out.js.slice(out.js.indexOf(`const _trampoline${n} = function(`), out.js.indexOf(`_trampoline${n}.fnName =`));
  assert.match(fn, /^const _trampoline\d+ = function\(arg0\) \{\n {4}_checkMayLeave\(0\);/);
  assert.match(fn, /ret = _trackHostOperation\(\(\) => getContext\(\)\);/);
  assert.match(fn, /catch \(err\) \{\s*getOrCreateAsyncState\(0\)\.markTrapped\(err\);\s*throw err;\s*\}/);
  assert.doesNotMatch(fn, /\btask\b|subtask|createNewCurrentTask|_withGlobalCurrentTaskMeta/);
});

test('patchHostImports: the monotonic clock\'s now returns the value its task resolved with, without the task; another return is left to jco', async () => {
  const { glue } = await fullTranspile();
  const n = MONOTONIC_NOW.exec(glue)![1]!;
  const start = glue.indexOf(`const _trampoline${n} = function(`);
  const end = glue.indexOf(`_trampoline${n}.fnName =`);
  assert.match(glue.slice(start, end), /task\.resolve\(\[toUint64\(ret\)\]\);\s*task\.exit\(\);\s*return toUint64\(ret\);/, 'jco\'s shape');
  const out = patchHostImports(glue);
  const fn = out.js.slice(out.js.indexOf(`const _trampoline${n} = function(`), out.js.indexOf(`_trampoline${n}.fnName =`));
  assert.match(fn, /^const _trampoline\d+ = function\(\) \{\n {4}_checkMayLeave\(0\);/);
  assert.match(fn, /ret = _trackHostOperation\(\(\) => now\(\)\);/);
  assert.match(fn, /return toUint64\(ret\);\n\}\s*$/);
  assert.doesNotMatch(fn, /\btask\b|subtask|createNewCurrentTask|_withGlobalCurrentTaskMeta/);
  assert.ok(out.js.includes(`let trampoline${n} = _trampoline${n};`));
  const other = glue.slice(0, start) + glue.slice(start, end).replace('return toUint64(ret);', 'return ret;') + glue.slice(end);
  const kept = patchHostImports(other);
  assert.deepEqual([kept.direct, kept.kept], [out.direct - 1, 1], 'a return that is not what the task resolved with');
  assert.ok(kept.js.includes(other.slice(start, end)));
});

test('patchHostImports: a trampoline or binding of another shape is left as jco wrote it, and the others are still patched', async () => {
  const { glue } = await fullTranspile();
  const all = directTrampolines(glue).length;
  const n = CONTEXT.exec(glue)![1]!;
  const start = glue.indexOf(`const _trampoline${n} = function(`);
  const end = glue.indexOf(`_trampoline${n}.fnName =`);
  const bindAt = glue.indexOf(`let trampoline${n} = `);
  const variants: [string, string][] = [
    ['another prologue', glue.slice(0, start) + glue.slice(start, end).replace('task.enterSync()', 'task.enterSync(1)') + glue.slice(end)],
    ['a trampoline that returns a value', glue.slice(0, start) + glue.slice(start, end).replace('task.resolve([ret]);', 'task.resolve([ret]);\n    return 1;') + glue.slice(end)],
    ['an async binding', glue.slice(0, bindAt) + glue.slice(bindAt).replace('isAsync: false,', 'isAsync: true,') + ''],
  ];
  for (const [what, js] of variants) {
    const out = patchHostImports(js);
    assert.deepEqual([out.direct, out.kept], [all - 1, 1], what);
    assert.ok(out.js.includes(js.slice(start, end)), `${what}: the trampoline is jco's`);
    assert.ok(!out.js.includes(`let trampoline${n} = _trampoline${n};`), `${what}: its binding is jco's`);
  }
  assert.deepEqual(patchHostImports('const a = 1;'), { js: 'const a = 1;', direct: 0, kept: 0 });
  const noCheck = glue.replace('function _checkMayLeave(componentIdx) {', 'function _checkMayLeaveX(componentIdx) {');
  assert.deepEqual(patchHostImports(noCheck), { js: noCheck, direct: 0, kept: all }, 'without jco\'s may-leave check nothing is rewritten');
});

const JCO_HELPER = `  const _debugLog = (...args) => {
    if (!globalThis?.process?.env?.JCO_DEBUG) { return; }
    console.debug(...args);
  };`;

test('patchGlue: the one debug helper is replaced and nothing else changes', () => {
  const js = `const a = 1;\n${JCO_HELPER}\n_debugLog('x', { a });\n`;
  assert.equal(patchGlue(js), `const a = 1;\n  ${PATCHED_DEBUG_LOG}\n_debugLog('x', { a });\n`);
});

test('patchGlue: glue of another shape is left to jco (null: not patched)', () => {
  assert.equal(patchGlue('const a = 1;'), null, 'no helper');
  assert.equal(patchGlue(`${JCO_HELPER}\n${JCO_HELPER}`), null, 'two helpers');
  assert.equal(patchGlue(JCO_HELPER.replace('console.debug', 'console.log')), null, 'a helper that does something else');
  assert.equal(patchGlue(JCO_HELPER.replace('JCO_DEBUG', 'JCO_TRACE')), null, 'another variable');
});

test('patched helper: silent without JCO_DEBUG, console.debug with it (read once, when the glue loads)', () => {
  const run = (env: Record<string, string>) => {
    const seen: unknown[][] = [];
    const fakeGlobal = { process: { env }, console: { debug: (...a: unknown[]) => seen.push(a) } };
    const helper = new Function('globalThis', 'console', `${PATCHED_DEBUG_LOG}\nreturn _debugLog;`)(fakeGlobal, fakeGlobal.console) as (...a: unknown[]) => void;
    helper('[x]', 1);
    return seen;
  };
  assert.deepEqual(run({}), []);
  assert.deepEqual(run({ JCO_DEBUG: '1' }), [['[x]', 1]]);
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

/** A core module with what a stub drops or must keep: start function, active element and data
 * segments, a data count, a global initialized by ref.func, a small and a large custom section. */
function featureModule(): Uint8Array<ArrayBuffer> {
  const sec = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  const leb = u32Bytes;
  const custom = (name: string, size: number) => sec(0, [name.length, ...Buffer.from(name), ...new Array(size).fill(0)]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...sec(1, [1, 0x60, 0, 0]), // type: () -> ()
    ...sec(3, [2, 0, 0]), // two functions
    ...sec(4, [1, 0x70, 0, 1]), // funcref table, min 1
    ...sec(5, [1, 0, 1]), // memory, min 1 page
    ...sec(6, [1, 0x70, 0, 0xd2, 0, 0x0b]), // global funcref = ref.func 0
    ...sec(7, [2, 1, 0x66, 0, 1, 1, 0x6d, 2, 0]), // export "f" = func 1, "m" = memory 0
    ...sec(8, [1]), // start: func 1
    ...sec(9, [1, 0, 0x41, 0, 0x0b, 1, 1]), // active element: table[0] = func 1
    ...sec(12, [1]), // data count
    ...sec(10, [2, 2, 0, 0x0b, 2, 0, 0x0b]), // two empty bodies
    ...sec(11, [1, 0, 0x41, 0, 0x0b, 2, 0x68, 0x69]), // active data "hi" at 0
    ...custom('small', 3),
    ...custom('big', 5000),
  ]);
}

test('stubCoreModule: keeps start, tables, globals (with ref.func) and small custom sections; drops code, data, elements', async () => {
  const { sections } = await import('../../src/host/sandbox/wasm-binary.js');
  const module = featureModule();
  assert.ok(WebAssembly.validate(module), 'the fixture itself is valid');
  const stub = new Uint8Array(stubCoreModule(module));
  assert.ok(WebAssembly.validate(stub));
  assert.deepEqual(WebAssembly.Module.exports(new WebAssembly.Module(stub)), WebAssembly.Module.exports(new WebAssembly.Module(module)));
  assert.deepEqual(WebAssembly.Module.customSections(new WebAssembly.Module(stub), 'small').length, 1);
  assert.deepEqual(WebAssembly.Module.customSections(new WebAssembly.Module(stub), 'big').length, 0);
  const ids = sections(stub).map((s) => s.id);
  assert.deepEqual(ids, [1, 3, 4, 5, 6, 7, 8, 10, 0]);
});

test('unstub: two stubs never land on the same file', () => {
  const stub = new Uint8Array([9, 9]);
  const swaps = [
    { module: new Uint8Array([1]), stub },
    { module: new Uint8Array([2]), stub },
  ];
  assert.equal(unstub({ 'c.core.wasm': stub }, swaps), null);
});

test('transpileComponent: a truncated component or a core module gets jco’s own error, not ours', async () => {
  const bytes = await probe();
  await assert.rejects(transpileComponent(bytes.subarray(0, 1_000_000)), (err: Error) => !/truncated wasm binary/.test(err.message));
  assert.equal(stubComponent(featureModule()).swaps.length, 0, 'a core module is not a component');
});
