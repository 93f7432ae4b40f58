/**
 * The host side of `wasi:http/outgoing-handler.handle` (the guest side, wasi:http's resources, is
 * src/host/sandbox/wasi-http.ts): a guest's `fetch()` takes the same egress path as `http.fetch`
 * (capability, allowlist, address rules, no redirects, bounded body, timeouts, the execution's
 * signal), and every failure is a wasi:http `error-code`, never a trap (docs/differences.md#egress).
 * Production links this import with no check at all.
 */
import type { ErrorCode } from '@bytecodealliance/preview2-shim/interfaces/wasi-http-types';
import { egress, maxFetchBytes, type EgressFailure, type EgressRequest, type EgressResponse } from './http.js';
import type { ExecutionContext } from './types.js';
import type { HostOutcome } from '../sandbox/protocol.js';

export const OUTGOING_HANDLER = 'wasi:http/outgoing-handler';

/** What crosses the bridge for one request: the guest's whole request (its body finished). */
export type OutgoingCall = EgressRequest;
export type OutgoingAnswer = { ok: EgressResponse } | { err: ErrorCode };

/** The error that names the cause: the first of the chain with a system code (undici wraps socket
 * errors in `cause`, Node's connect gives an AggregateError per address tried), else the last. */
function rootError(e: unknown): { code?: string; errno?: number; message?: string } {
  type Err = { cause?: unknown; errors?: unknown[]; code?: string; errno?: number; message?: string };
  let cur = e as Err | undefined;
  let last: Err = {};
  for (let i = 0; i < 8 && cur && typeof cur === 'object'; i++) {
    if (cur.code && !cur.code.startsWith('UND_ERR_')) return cur;
    last = cur;
    cur = (cur.cause ?? cur.errors?.[0]) as Err | undefined;
  }
  return last;
}

const TLS_CERT = /^(CERT_|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;

/** A send failure (connect, TLS, request, response headers) as wasi:http's error-code. */
function sendErrorCode(error: unknown): ErrorCode {
  const top = (error ?? {}) as { code?: string; name?: string };
  switch (top.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { tag: 'connection-timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { tag: 'HTTP-response-timeout' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { tag: 'connection-read-timeout' };
    case 'UND_ERR_HEADERS_OVERFLOW':
      return { tag: 'HTTP-response-header-section-size', val: undefined };
    case 'UND_ERR_ABORTED':
      return { tag: 'internal-error', val: 'the execution was stopped' };
    case 'UND_ERR_INVALID_ARG':
      return { tag: 'internal-error', val: `invalid request: ${(error as Error).message}` };
  }
  if (top.name === 'AbortError') return { tag: 'internal-error', val: 'the execution was stopped' };
  const root = rootError(error);
  const code = root.code ?? '';
  if (code === 'ECONNREFUSED') return { tag: 'connection-refused' };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return { tag: 'connection-terminated' };
  if (code === 'ETIMEDOUT') return { tag: 'connection-timeout' };
  if (code === 'EHOSTUNREACH' || code === 'EHOSTDOWN') return { tag: 'destination-unavailable' };
  if (code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return { tag: 'destination-IP-unroutable' };
  if (TLS_CERT.test(code)) return { tag: 'TLS-certificate-error' };
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS')) return { tag: 'TLS-protocol-error' };
  if (code === 'HPE_INVALID_CONSTANT' || code.startsWith('HPE_')) return { tag: 'HTTP-protocol-error' };
  return { tag: 'internal-error', val: root.message ?? String(error) };
}

/** Every egress failure as the error-code a wasi:http guest gets. */
export function errorCodeOf(f: EgressFailure): ErrorCode {
  switch (f.kind) {
    case 'not-granted':
    case 'not-listed':
      return { tag: 'HTTP-request-denied' };
    case 'address-refused':
      return { tag: 'destination-IP-prohibited' };
    case 'invalid-url':
      return { tag: 'HTTP-request-URI-invalid' };
    case 'invalid-method':
      return { tag: 'HTTP-request-method-invalid' };
    case 'dns': {
      const e = rootError(f.error);
      if (e.code === 'ETIMEOUT') return { tag: 'DNS-timeout' };
      const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : undefined;
      return { tag: 'DNS-error', val: { rcode: e.code ?? 'no address', infoCode: errno !== undefined && errno <= 0xffff ? errno : undefined } };
    }
    case 'send':
      return sendErrorCode(f.error);
    case 'body-too-large':
      return { tag: 'HTTP-response-body-size', val: BigInt(f.max) };
    case 'body': {
      const code = (f.error as { code?: string } | undefined)?.code;
      if (code === 'UND_ERR_BODY_TIMEOUT') return { tag: 'connection-read-timeout' };
      if (code === 'UND_ERR_ABORTED' || (f.error as Error | undefined)?.name === 'AbortError') return { tag: 'internal-error', val: 'the execution was stopped' };
      return { tag: 'HTTP-response-incomplete' };
    }
  }
}

/** The main thread's half of `handle`: one request, its response or its error-code. A request body
 * is bounded as a response body is (the guest thread refuses to keep more: wasi-http.ts). */
export async function outgoingHandle(ctx: ExecutionContext, [call]: unknown[], signal: AbortSignal): Promise<HostOutcome> {
  const max = maxFetchBytes(ctx.services);
  if (((call as OutgoingCall).body?.length ?? 0) > max) return { err: { tag: 'HTTP-request-body-size', val: BigInt(max) } satisfies ErrorCode };
  const out = await egress(ctx, call as OutgoingCall, signal, 'wasi:http request');
  const answer: OutgoingAnswer = 'ok' in out ? out : { err: errorCodeOf(out.fail) };
  return answer;
}

/** As the import dispatch sees it: `handle`, whose unexpected failure is `internal-error`, not a trap. */
export const outgoingHandler = {
  functions: { handle: outgoingHandle },
  onInternalError: (_fn: string, e: unknown): HostOutcome => ({ err: { tag: 'internal-error', val: (e as Error)?.message ?? String(e) } satisfies ErrorCode }),
};
