/** The runner over HTTP (`POST {RUNNER_BASE_URL}/v1/execute`), as production's server calls it. */
import { Agent, request } from 'undici';
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
      let res;
      try {
        res = await request(`${base}/v1/execute`, { method: 'POST', headers: h, body: JSON.stringify(body), dispatcher: agent, signal });
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
