import { createHash } from 'node:crypto';
import type { ExecuteResponseBody } from '../shared/execute-envelope.js';

/**
 * Responses remembered by `x-idempotency-key` (docs/differences.md#idempotency). Production's map is
 * keyed by the key alone, unbounded and never expires: ours is scoped by tenant, install, method and
 * path, remembers a fingerprint of the request (a reused key with another body is refused, 422),
 * knows which keys are still running (a second request meanwhile gets 409, it never runs twice),
 * and is bounded by count and bytes, its expired entries evicted on their own.
 */
export interface IdempotencyScope {
  tenant: string;
  /** The install id, else the extension id. */
  install: string;
  method: string;
  path: string;
}

export interface IdempotencyOptions {
  maxEntries?: number;
  /** Sum of the remembered answers' sizes (body, headers, key). */
  maxBytes?: number;
  ttlMs?: number;
  now?: () => number;
  /** How often expired entries are swept when nothing else touches the cache; 0 turns the sweep off. */
  sweepMs?: number;
}

/** What a key lookup says: replay this answer, refuse, or run (and then `finish`). */
export type IdempotencyLookup =
  | { kind: 'replay'; response: ExecuteResponseBody }
  | { kind: 'refuse'; response: ExecuteResponseBody }
  | { kind: 'run'; finish(response: ExecuteResponseBody, remember: boolean): void };

interface Entry {
  at: number;
  fingerprint: string;
  bytes: number;
  response: ExecuteResponseBody;
}

export const IDEMPOTENCY_MISMATCH: ExecuteResponseBody = {
  status: 422,
  headers: {},
  body_b64: null,
  error: 'idempotency_key_reused: this x-idempotency-key was used for a different request body',
};
export const IDEMPOTENCY_IN_FLIGHT: ExecuteResponseBody = {
  status: 409,
  headers: {},
  body_b64: null,
  error: 'idempotency_key_in_use: a request with this x-idempotency-key is still running',
};

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly running = new Map<string, string>();
  private totalBytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly timer?: NodeJS.Timeout;

  constructor(o: IdempotencyOptions = {}) {
    this.maxEntries = o.maxEntries ?? 10_000;
    this.maxBytes = o.maxBytes ?? 64 * 2 ** 20;
    this.ttlMs = o.ttlMs ?? 10 * 60_000;
    this.now = o.now ?? Date.now;
    const sweepMs = o.sweepMs ?? 60_000;
    if (sweepMs > 0) {
      this.timer = setInterval(() => this.sweep(), sweepMs);
      this.timer.unref();
    }
  }

  private static key(scope: IdempotencyScope, key: string): string {
    return JSON.stringify([scope.tenant, scope.install, scope.method.toUpperCase(), scope.path, key]);
  }

  /** A request's fingerprint: what must be the same for a replay (query, headers and body). */
  static fingerprint(parts: unknown): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  lookup(scope: IdempotencyScope, key: string, fingerprint: string): IdempotencyLookup {
    this.sweep();
    const k = IdempotencyCache.key(scope, key);
    const hit = this.entries.get(k);
    if (hit) return hit.fingerprint === fingerprint ? { kind: 'replay', response: hit.response } : { kind: 'refuse', response: IDEMPOTENCY_MISMATCH };
    const runningWith = this.running.get(k);
    if (runningWith !== undefined) return { kind: 'refuse', response: runningWith === fingerprint ? IDEMPOTENCY_IN_FLIGHT : IDEMPOTENCY_MISMATCH };
    this.running.set(k, fingerprint);
    let finished = false;
    return {
      kind: 'run',
      finish: (response, remember) => {
        if (finished) return;
        finished = true;
        this.running.delete(k);
        if (remember) this.remember(k, fingerprint, response);
      },
    };
  }

  private remember(k: string, fingerprint: string, response: ExecuteResponseBody): void {
    const bytes = k.length + (response.body_b64?.length ?? 0) + JSON.stringify(response.headers).length + (response.error?.length ?? 0) + 64;
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(k);
    if (old) this.drop(k, old);
    this.entries.set(k, { at: this.now(), fingerprint, bytes, response });
    this.totalBytes += bytes;
    for (const [oldest, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.totalBytes <= this.maxBytes) break;
      this.drop(oldest, e);
    }
  }

  private drop(k: string, e: Entry): void {
    this.entries.delete(k);
    this.totalBytes -= e.bytes;
  }

  /** Evicts expired entries (insertion order is age order, so it stops at the first live one). */
  sweep(): number {
    const cutoff = this.now() - this.ttlMs;
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.at > cutoff) break;
      this.drop(k, e);
      n++;
    }
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Keys whose first request is still running. */
  get inFlight(): number {
    return this.running.size;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
