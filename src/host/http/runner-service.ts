/**
 * The runner as an HTTP service: production's `POST /v1/execute` and `GET /healthz` (docs/production-contract.md#execute).
 * Body rejections answer as production's framework does (plain text: 415 without a JSON content
 * type, 400 for malformed JSON, 422 for missing or mistyped fields); every execution outcome is
 * HTTP 200 with the envelope. Ours besides: an optional API key (docs/differences.md#execute-key) and a body cap.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokensEqual } from '../../shared/auth.js';
import { executeRequestSchema, type ExecuteClient, type ExecuteHeaders } from '../../shared/execute-envelope.js';
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Route } from '../../shared/http-server.js';
import { readBody } from '../../shared/read-body.js';
import type { SandboxPoolStats } from '../sandbox/pool.js';
import { sandboxesNotReady } from '../sandbox/readiness.js';

export const EXECUTE_BODY_LIMIT = 16 * 1024 * 1024;

export interface RunnerServiceOptions {
  runner: ExecuteClient & { stats?(): SandboxPoolStats };
  cacheDir: string;
  /** When set, /v1/execute requires it as `x-runner-service-token: <key>` or `authorization: Bearer <key>`. */
  apiKey?: string;
  bodyLimit?: number;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function runnerRoutes(opts: RunnerServiceOptions): Route[] {
  const limit = opts.bodyLimit ?? EXECUTE_BODY_LIMIT;
  async function execute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (opts.apiKey) {
      // Only the documented forms; both compared in full (constant time, no short cut).
      const bearer = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(header(req, 'authorization') ?? '')?.[1];
      const byHeader = tokensEqual(header(req, 'x-runner-service-token'), opts.apiKey);
      const byBearer = tokensEqual(bearer, opts.apiKey);
      if (!(byHeader || byBearer)) {
        sendJson(res, 401, { status: 401, headers: {}, body_b64: null, error: 'unauthorized: missing or invalid runner API key' });
        return;
      }
    }
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/(.+\+)?json\b/i.test(type.trim())) {
      sendText(res, 415, 'Expected request with `Content-Type: application/json`');
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, limit);
    } catch (e) {
      if (e instanceof HttpError && e.status === 413) {
        sendJson(res, 413, { status: 413, headers: {}, body_b64: null, error: `payload_too_large: request body exceeds ${limit} bytes` });
        return;
      }
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      sendText(res, 400, `Failed to parse the request body as JSON: ${(e as Error).message}`);
      return;
    }
    const parsed = executeRequestSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      sendText(res, 422, `Failed to deserialize the JSON body into the target type: ${first.path.join('.') || '(root)'}: ${first.message}`);
      return;
    }
    const headers: ExecuteHeaders = {
      'x-alga-tenant': header(req, 'x-alga-tenant'),
      'x-alga-extension': header(req, 'x-alga-extension'),
      'x-idempotency-key': header(req, 'x-idempotency-key'),
      'x-request-id': header(req, 'x-request-id'),
    };
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const out = await opts.runner.execute(headers, parsed.data, abort.signal);
    sendJson(res, 200, out);
  }

  /** Ours (docs/differences.md#readiness): 503 while every sandbox is busy, one past its deadline. */
  async function readyz(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reason = sandboxesNotReady(opts.runner.stats?.());
    if (reason) {
      sendJson(res, 503, { ready: false, reason }, { 'retry-after': '5' });
      return;
    }
    sendJson(res, 200, { ready: true });
  }

  async function healthz(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    let writable = true;
    try {
      mkdirSync(opts.cacheDir, { recursive: true });
      accessSync(opts.cacheDir, constants.W_OK);
    } catch {
      writable = false;
    }
    sendJson(res, writable ? 200 : 503, { cache_writable: writable, bundle_store: 'ok', ext_cache_max_bytes: null });
  }

  return [
    { method: 'POST', path: '/v1/execute', handle: execute },
    { method: 'GET', path: '/healthz', handle: healthz },
    { method: 'GET', path: '/readyz', handle: readyz },
  ];
}
