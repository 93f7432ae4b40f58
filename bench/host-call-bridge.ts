/**
 * Benchmark 3 — host-call round trip through the worker bridge vs calling the host function
 * directly. The same probe code makes N `context.get-context` calls in one execution:
 *   - direct: the probe instantiated in this thread, the import answering synchronously;
 *   - bridge: through the runner (sandbox worker → MessagePort + Atomics.wait → main thread
 *     dispatcher → reply).
 * Per-call time = (time with N calls − time with 0 calls) / N. Target: ≤ 50 µs added per call.
 */
import { call, check, component, fmt, inThread, runnerFor, stubAlga, witRequest } from './support.js';

const N = 2000;
const ROUNDS = 15;
const probe = await component('scheduler-probe');
const ctx = { requestId: 'bench', tenantId: 'bench', extensionId: 'probe', installId: undefined, versionId: undefined };
const body = (n: number) => ({ calls: Array.from({ length: n }, () => ({ fn: 'context.get-context' })) });

async function median(fn: () => Promise<void> | void): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const { create } = await inThread(probe, stubAlga({ 'alga:extension/context': { getContext: () => ctx } }));
const guest = create().guest;
const direct = async (n: number) => median(() => void guest.handler(witRequest('POST', '/probe', body(n))));
const directPerCall = ((await direct(N)) - (await direct(0))) / N;

const runner = runnerFor(probe, { concurrency: 1 });
await runner.warm(probe.contentHash, 'bench', probe.name);
const bridged = async (n: number) => median(async () => check(await call(runner, probe, 'POST', '/probe', body(n))));
const bridgePerCall = ((await bridged(N)) - (await bridged(0))) / N;
await runner.close();

console.log(`Benchmark 3: host-call round trip (${N} context.get-context calls per execution, median of ${ROUNDS})`);
console.log(`   direct (in-thread import, baseline): ${fmt(directPerCall * 1000, 1)} µs per call`);
console.log(`   through the bridge:                  ${fmt(bridgePerCall * 1000, 1)} µs per call  = ${fmt(bridgePerCall / directPerCall, 1)}x`);
console.log(`   added by the bridge:                 ${fmt((bridgePerCall - directPerCall) * 1000, 1)} µs per call  (target ≤ 50 µs)`);
