/**
 * The one way the runner calls its platform back over HTTP: `POST {base}{route}` with
 * `x-runner-auth` and a JSON body, as production's runner does, on a keep-alive undici pool with
 * production's callback timeout. Each interface's client maps the status and text itself.
 */
import { Agent, request } from 'undici';

export interface CallbackOptions {
  baseUrl: string | undefined;
  token: string | undefined;
  /** Production's callback timeout. */
  timeoutMs?: number;
  /** A pool owned by the caller (not closed here). */
  dispatcher?: Agent;
}

export type CallbackResult =
  | { kind: 'answer'; status: number; text: string }
  | { kind: 'unconfigured'; missing: 'base URL' | 'token' }
  | { kind: 'transport'; message: string };

export interface CallbackPoster {
  post(route: string, body: unknown, signal?: AbortSignal): Promise<CallbackResult>;
  close(): Promise<void>;
}

/** Production's callback timeout. */
export const CALLBACK_TIMEOUT_MS = 30_000;

/** A keep-alive pool of at most `connections` to the platform, with the callback timeout. */
export function createCallbackAgent(connections: number, timeoutMs = CALLBACK_TIMEOUT_MS): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

export function createCallbackPoster(opts: CallbackOptions): CallbackPoster {
  const agent = opts.dispatcher ?? createCallbackAgent(32, opts.timeoutMs);
  return {
    async post(route, body, signal) {
      if (!opts.baseUrl) return { kind: 'unconfigured', missing: 'base URL' };
      if (!opts.token) return { kind: 'unconfigured', missing: 'token' };
      try {
        const res = await request(`${opts.baseUrl}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-runner-auth': opts.token },
          body: JSON.stringify(body),
          dispatcher: agent,
          signal,
        });
        // Production reads the text and treats a failed read as an empty body.
        const text = await res.body.text().catch(() => '');
        return { kind: 'answer', status: res.statusCode, text };
      } catch (e) {
        return { kind: 'transport', message: (e as Error).message };
      }
    },
    close: () => (opts.dispatcher ? Promise.resolve() : agent.close()),
  };
}

/**
 * A JSON answer as `{status, body}` for the interfaces whose mapping reads parsed JSON (scheduler,
 * storage): an empty text is a null body; a 2xx that is not JSON is production's `internal` (502),
 * a non-2xx keeps its status.
 */
export function jsonReply(status: number, text: string, nonJsonBody: unknown): { status: number; body: unknown } {
  if (text.trim() === '') return { status, body: null };
  try {
    return { status, body: JSON.parse(text) };
  } catch {
    const ok = status >= 200 && status < 300;
    return { status: ok ? 502 : status, body: nonJsonBody };
  }
}
