/**
 * The runner's scheduler callback over HTTP: `POST {base}/api/internal/ext-scheduler/install/{id}`
 * with `x-runner-auth`, as production's runner calls it, on a keep-alive undici pool. The answer
 * (status + JSON body, read for every status) goes to the same mapping as in-process replies.
 */
import { Agent, request } from 'undici';
import type { SchedulerBackend, SchedulerReply } from '../ports.js';

export interface HttpSchedulerOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
  dispatcher?: Agent;
}

export function createHttpSchedulerBackend(opts: HttpSchedulerOptions): SchedulerBackend & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const agent = opts.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 32, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    async call(installId, body, signal): Promise<SchedulerReply> {
      // Missing configuration is production's `internal`.
      if (!opts.baseUrl || !opts.token) return { status: 500, body: { error: 'Scheduler callback is not configured (base URL or token missing)' } };
      const url = `${opts.baseUrl}/api/internal/ext-scheduler/install/${encodeURIComponent(installId)}`;
      let res;
      try {
        res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-runner-auth': opts.token },
          body: JSON.stringify(body),
          dispatcher: agent,
          signal,
        });
      } catch (e) {
        return { status: 502, body: { error: `Scheduler callback failed: ${(e as Error).message}` } };
      }
      const text = await res.body.text().catch(() => '');
      if (text === '') return { status: res.statusCode, body: null };
      try {
        return { status: res.statusCode, body: JSON.parse(text) };
      } catch {
        // A 2xx that is not JSON is production's `internal`; keep non-2xx statuses as they are.
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        return { status: ok ? 502 : res.statusCode, body: { error: `Scheduler API answered non-JSON (HTTP ${res.statusCode})` } };
      }
    },
    close: () => (opts.dispatcher ? Promise.resolve() : agent.close()),
  };
}
