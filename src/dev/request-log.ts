/**
 * `dev`'s last gateway requests as they reached the gateway (method, path, query, the headers it
 * forwards, body), by request id, so the dashboard can replay one. Bounded by count and by bytes:
 * the oldest go first; a body over `maxBodyBytes` is not kept (that request cannot be replayed).
 */
export interface GatewayRequestRecord {
  requestId: string;
  tenant: string;
  extension: string;
  method: string;
  path: string;
  /** The raw query string, `?…` or ''. */
  search: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export class RequestLog {
  private readonly items = new Map<string, GatewayRequestRecord>();
  private bytes = 0;
  constructor(
    private readonly maxCount = 100,
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly maxBodyBytes = 1024 * 1024,
  ) {}

  record(r: GatewayRequestRecord): void {
    if ((r.body?.length ?? 0) > this.maxBodyBytes) return;
    this.drop(r.requestId);
    this.items.set(r.requestId, r);
    this.bytes += r.body?.length ?? 0;
    while (this.items.size > this.maxCount || this.bytes > this.maxBytes) this.drop(this.items.keys().next().value!);
  }

  get(requestId: string): GatewayRequestRecord | undefined {
    return this.items.get(requestId);
  }

  has(requestId: string): boolean {
    return this.items.has(requestId);
  }

  private drop(requestId: string): void {
    const old = this.items.get(requestId);
    if (!old) return;
    this.bytes -= old.body?.length ?? 0;
    this.items.delete(requestId);
  }
}
