/**
 * The runner's scheduler callback over HTTP: `POST {base}/api/internal/ext-scheduler/install/{id}`
 * with `x-runner-auth`, as production's runner calls it, on a keep-alive undici pool. The answer
 * (status + JSON body, read for every status) goes to the same mapping as in-process replies.
 */
import type { Agent } from 'undici';
import type { SchedulerBackend, SchedulerReply } from '../ports.js';
import { createCallbackPoster, jsonReply } from './callback.js';

export interface HttpSchedulerOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
  /** A pool owned by the caller (not closed here). */
  dispatcher?: Agent;
}

export function createHttpSchedulerBackend(opts: HttpSchedulerOptions): SchedulerBackend & { close(): Promise<void> } {
  const poster = createCallbackPoster(opts);
  return {
    async call(installId, body, signal): Promise<SchedulerReply> {
      const res = await poster.post(`/api/internal/ext-scheduler/install/${encodeURIComponent(installId)}`, body, signal);
      // Missing configuration is production's `internal`.
      if (res.kind === 'unconfigured') return { status: 500, body: { error: 'Scheduler callback is not configured (base URL or token missing)' } };
      if (res.kind === 'transport') return { status: 502, body: { error: `Scheduler callback failed: ${res.message}` } };
      return jsonReply(res.status, res.text, { error: `Scheduler API answered non-JSON (HTTP ${res.status})` }) as SchedulerReply;
    },
    close: () => poster.close(),
  };
}
