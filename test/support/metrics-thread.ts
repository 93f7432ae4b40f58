/**
 * A thread that records scheduler calls as a platform or a sandbox worker does (metrics.ts), and
 * answers what its own registry counted.
 */
import { parentPort } from 'node:worker_threads';
import { flushSchedulerMetrics, forwardSchedulerMetrics, recordSchedulerCall, schedulerApiCalls, schedulerMetricsChannel, type CallOutcome } from '../../src/server/scheduler/metrics.js';

export type MetricsAsk =
  | { op: 'channel' }
  | { op: 'forward'; channel: string }
  | { op: 'record'; operation: string; outcome: CallOutcome; times: number }
  /** Sends the observations held for another thread, as a sandbox worker does when an execution ends. */
  | { op: 'flush' }
  /** This thread's count of `operation`/`outcome` once it reaches `atLeast` (or after 500 polls). */
  | { op: 'count'; operation: string; outcome: CallOutcome; atLeast?: number };

const count = async (operation: string, outcome: string) =>
  (await schedulerApiCalls.get()).values.find((v) => v.labels.operation === operation && v.labels.outcome === outcome)?.value ?? 0;

const port = parentPort!;
port.on('message', async (m: MetricsAsk & { id: number }) => {
  let value: unknown;
  if (m.op === 'channel') value = schedulerMetricsChannel();
  else if (m.op === 'forward') forwardSchedulerMetrics(m.channel);
  else if (m.op === 'flush') flushSchedulerMetrics();
  else if (m.op === 'record') for (let i = 0; i < m.times; i++) recordSchedulerCall(undefined, { operation: m.operation, outcome: m.outcome, durationMs: 1 });
  else {
    value = await count(m.operation, m.outcome);
    for (let i = 0; i < 500 && (value as number) < (m.atLeast ?? 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
      value = await count(m.operation, m.outcome);
    }
  }
  port.postMessage({ id: m.id, value });
});
