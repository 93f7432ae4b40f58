/**
 * Benchmark 3 — host-call round trip through the worker bridge vs calling the host function
 * directly. The probe makes N `context.get-context` calls in one execution.
 *
 * A. The bridge alone, timed where the guest pays it: the sandbox times each import call from post
 *    to reply (the runner logs `host_calls` / `host_call_ms` per execution), against the same host
 *    function called directly on the main thread.
 * B. End to end, per call: (execution with N calls − execution with 0 calls) / N through the
 *    runner, against the probe instantiated in this thread with a synchronous import; with the
 *    runner's snapshot isolation (restored in this thread too) and with one reused instance.
 *    B also carries how fast the guest itself runs in a worker thread against the main thread,
 *    which varies by tens of µs per call on a small VM even with no host call at all.
 * Target: ≤ 50 µs added per call.
 */
import { createImportDispatch } from '../src/host/import-dispatch.js';
import type { ExecutionContext } from '../src/host/interfaces/index.js';
import { ReadyInstances } from '../src/host/sandbox/ready-instances.js';
import { createLogger, silentLogger } from '../src/shared/logger.js';
import { call, check, component, fmt, inThread, runnerFor, stubAlga, witRequest } from './support.js';

const N = 2000;
const ROUNDS = 15;
/** Executions before measuring, so V8 has optimized the code on both sides (a fresh sandbox worker
 * takes about 20 such executions to get there). */
const WARM_ROUNDS = 25;
const probe = await component('scheduler-probe');
const ctx = { requestId: 'bench', tenantId: 'bench', extensionId: 'probe', installId: undefined, versionId: undefined };
const body = (n: number) => ({ calls: Array.from({ length: n }, () => ({ fn: 'context.get-context' })) });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timedMedian(fn: () => Promise<void> | void): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}
async function perCall(run: (n: number) => Promise<void> | void): Promise<number> {
  for (let i = 0; i < WARM_ROUNDS; i++) await run(N);
  return ((await timedMedian(() => run(N))) - (await timedMedian(() => run(0)))) / N;
}

console.log(`Benchmark 3: host-call round trip (${N} context.get-context calls per execution)`);

// --- A
const perExecution: { host_calls: number; host_call_ms: number }[] = [];
const logger = createLogger({
  write: (line) => {
    const o = JSON.parse(line) as { msg: string; host_calls?: number; host_call_ms?: number };
    if (o.msg === 'execute done' && o.host_calls === N) perExecution.push({ host_calls: o.host_calls, host_call_ms: o.host_call_ms! });
  },
});
const runnerA = runnerFor(probe, { concurrency: 1, logger });
await runnerA.warm(probe.contentHash, 'bench', probe.name);
for (let i = 0; i < WARM_ROUNDS + ROUNDS; i++) check(await call(runnerA, probe, 'POST', '/probe', body(N)));
await runnerA.close();
const bridged = median(perExecution.slice(WARM_ROUNDS).map((e) => e.host_call_ms / e.host_calls));
const dispatch = createImportDispatch({
  context: ctx,
  granted: new Set(['cap:context.read']),
  logger: silentLogger,
} as unknown as ExecutionContext);
const directTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await dispatch('alga:extension/context', 'getContext', [], new AbortController().signal);
  directTimes.push((performance.now() - t0) / N);
}
const direct = median(directTimes);
console.log('A. the bridge alone, timed at the guest\'s import (median of', ROUNDS, 'executions)');
console.log(`     host function called directly on the main thread: ${fmt(direct * 1000, 1)} µs per call`);
console.log(`     the same call from the guest, through the bridge:  ${fmt(bridged * 1000, 1)} µs per call`);
console.log(`     added by the bridge:                               ${fmt((bridged - direct) * 1000, 1)} µs per call  (target ≤ 50 µs)`);

// --- B
const { create } = await inThread(probe, stubAlga({ 'alga:extension/context': { getContext: () => ctx } }));
const warmUp = (g: { handler(r: unknown): unknown }) => {
  g.handler(witRequest('GET', '/.well-known/alga-runner/warmup'));
  return true;
};
console.log(`B. end to end, per call: execution time with ${N} calls minus with none (median of ${ROUNDS})`);
for (const m of [
  { label: 'snapshot isolation (the default)', isolation: 'snapshot' as const },
  { label: 'one instance reused (no isolation)', isolation: 'shared-instance' as const },
]) {
  const ready = new ReadyInstances(m.isolation);
  ready.register('probe', create, warmUp);
  ready.fill('probe');
  const inThreadPerCall = await perCall((n) => {
    const inst = ready.take('probe');
    inst.guest.handler(witRequest('POST', '/probe', body(n)));
    ready.release('probe', inst, true);
  });
  const runner = runnerFor(probe, { concurrency: 1, isolation: m.isolation });
  await runner.warm(probe.contentHash, 'bench', probe.name);
  const viaRunner = await perCall(async (n) => check(await call(runner, probe, 'POST', '/probe', body(n))));
  await runner.close();
  console.log(`   ${m.label}`);
  console.log(`     guest in this thread, synchronous import: ${fmt(inThreadPerCall * 1000, 1)} µs per call`);
  console.log(`     guest in a sandbox, through the bridge:    ${fmt(viaRunner * 1000, 1)} µs per call  (+${fmt((viaRunner - inThreadPerCall) * 1000, 1)} µs)`);
}
