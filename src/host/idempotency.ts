import type { ExecuteResponseBody } from '../shared/execute-envelope.js';

/**
 * Responses remembered by `x-idempotency-key`. Production's map is unbounded, never expires and
 * is shared by all tenants (docs/differences.md#execute-key): ours is bounded (oldest first out), expires, and
 * keyed by tenant as well as key.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, { at: number; response: ExecuteResponseBody }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  private static key(tenant: string, key: string) {
    return `${tenant}\u0000${key}`;
  }

  get(tenant: string, key: string): ExecuteResponseBody | undefined {
    const k = IdempotencyCache.key(tenant, key);
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(k);
      return undefined;
    }
    return e.response;
  }

  set(tenant: string, key: string, response: ExecuteResponseBody): void {
    const k = IdempotencyCache.key(tenant, key);
    this.entries.delete(k);
    this.entries.set(k, { at: this.now(), response });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
