/**
 * Where a never-seen component's first execution goes: jco's transpile of the ~12 MB sample.
 *   - stubbed (what the runner does, src/host/transpile.ts): jco reads the component with its large
 *     core module replaced by a code-free stub, and the real module is put back in the output;
 *   - whole: jco reads all of it.
 * Three of each in one process, stubbed first (so jco's own wasm is still cold for it, and warm for
 * the whole-component runs), plus the compile of the resulting core modules.
 *
 *   npm run build && node dist/bench/transpile.js
 */
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { transpileComponent } from '../src/host/transpile.js';
import { component, fmt } from './support.js';

const opts = { name: 'component', instantiation: { tag: 'async' } } as Parameters<typeof transpileBytes>[1];
const sample = await component('scheduler-demo');

const timed = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
};
async function three(fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) out.push((await timed(fn))[0]);
  return out;
}

const stubbed = await three(async () => {
  if (!(await transpileComponent(sample.bytes)).stubbed) throw new Error('stubbed transpile did not verify');
});
const whole = await three(() => transpileBytes(sample.bytes, opts));
const { files } = await transpileComponent(sample.bytes);
const cores = Object.entries(files).filter(([name]) => name.endsWith('.wasm'));
const [compile] = await timed(() => Promise.all(cores.map(([, bytes]) => WebAssembly.compile(new Uint8Array(bytes)))));

const row = (ms: number[]) => ms.map((t) => `${fmt(t, 0)} ms`).join(', ');
console.log(`jco transpile of the sample (${(sample.bytes.length / 2 ** 20).toFixed(1)} MB), one process`);
console.log(`   stubbed (the runner's), 1st/2nd/3rd: ${row(stubbed)}`);
console.log(`   whole component,        1st/2nd/3rd: ${row(whole)}   stubbed/whole, 1st: ×${fmt(stubbed[0]! / whole[0]!, 2)}; 3rd: ×${fmt(stubbed[2]! / whole[2]!, 2)}`);
console.log(`   compile of its ${cores.length} core modules: ${fmt(compile, 0)} ms`);
