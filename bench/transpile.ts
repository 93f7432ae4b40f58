/**
 * Where a never-seen component's first execution goes: jco's transpile of the ~12 MB sample, three
 * times in one process (the first against the later ones, once V8 has optimized jco's own wasm),
 * beside an empty-component transpile (the cost of loading the transpiler alone) and the compile of
 * the resulting core modules.
 *
 *   npm run build && node dist/bench/transpile.js
 */
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { component, fmt } from './support.js';

const EMPTY_COMPONENT = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
const opts = { name: 'component', instantiation: { tag: 'async' } } as Parameters<typeof transpileBytes>[1];
const sample = await component('scheduler-demo');

const timed = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
};

const [empty] = await timed(() => transpileBytes(EMPTY_COMPONENT, opts));
const runs: number[] = [];
let files: Record<string, Uint8Array> = {};
for (let i = 0; i < 3; i++) {
  const [ms, out] = await timed(() => transpileBytes(sample.bytes, opts));
  runs.push(ms);
  files = out.files;
}
const cores = Object.entries(files).filter(([name]) => name.endsWith('.wasm'));
const [compile] = await timed(() => Promise.all(cores.map(([, bytes]) => WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>))));

console.log(`jco transpile of the sample (${(sample.bytes.length / 2 ** 20).toFixed(1)} MB), one process`);
console.log(`   empty component first (loads the transpiler): ${fmt(empty, 0)} ms`);
console.log(`   sample, 1st: ${fmt(runs[0]!, 0)} ms   2nd: ${fmt(runs[1]!, 0)} ms (×${fmt(runs[1]! / runs[0]!, 2)})   3rd: ${fmt(runs[2]!, 0)} ms (×${fmt(runs[2]! / runs[0]!, 2)})`);
console.log(`   compile of its ${cores.length} core modules: ${fmt(compile, 0)} ms (${fmt(compile / runs[0]!, 3)} of the 1st transpile)`);
