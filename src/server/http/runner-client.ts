/** The runner over HTTP (`POST {RUNNER_BASE_URL}/v1/execute`), as production's server calls it. */
import { Agent, request } from 'undici';
import { deadlineOf, MAX_TIMER_MS } from '../../shared/deadline.js';
import { envelopeError, type ExecuteClient, type ExecuteResponseBody } from '../../shared/execute-envelope.js';

export function createHttpRunnerClient(opts: { baseUrl: string; apiKey?: string; timeoutMs?: number }): ExecuteClient & { close(): Promise<void> } {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    async execute(headers, body, signal) {
      const h: Record<string, string> = { 'content-type': 'application/json' };
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
      if (opts.apiKey) h['x-runner-service-token'] = opts.apiKey;
      // The runner at the other end keeps the execution's deadline (it travels as limits.timeout_ms)
      // and may move it later for its own load: wait for its answer until the deadline's latest end,
      // and stop early only when our caller goes away.
      const deadline = deadlineOf(signal);
      const wait = deadline ? Math.max(1, Math.min(deadline.latestRemainingMs(), MAX_TIMER_MS)) : undefined; // 0 would mean no timeout to undici
      const stop = deadline ? deadline.callerSignal : signal;
      let res;
      try {
        res = await request(`${base}/v1/execute`, {
          method: 'POST',
          headers: h,
          body: JSON.stringify(body),
          dispatcher: agent,
          signal: stop,
          ...(wait !== undefined ? { headersTimeout: wait, bodyTimeout: wait } : {}),
        });
      } catch (e) {
        return envelopeError(502, `runner_unreachable: ${(e as Error).message}`);
      }
      const text = await res.body.text().catch(() => '');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return envelopeError(502, `bad_gateway: runner answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      }
      const env = parsed as Partial<ExecuteResponseBody>;
      if (typeof env.status !== 'number') return envelopeError(502, `bad_gateway: runner answered HTTP ${res.statusCode} without an envelope`);
      return { status: env.status, headers: env.headers ?? {}, body_b64: env.body_b64 ?? null, error: env.error ?? null };
    },
    close: () => agent.close(),
  };
}
