/**
 * The guest thread's `wasi:http/types` and `wasi:http/outgoing-handler` (componentize-js builds the
 * guest's global `fetch()` on them). A request is held here until it is whole (its body finished),
 * then sent as one call over the sandbox bridge to the main thread, where it takes http.fetch's
 * egress path (interfaces/wasi-http.ts): capability, allowlist, address rules, no redirects, bounded
 * body, timeouts, the execution's deadline. The guest thread blocks on the answer, as for every
 * other I/O import; a failure reaches the guest as wasi:http's `error-code`, never a trap.
 *
 * Why not preview2-shim's `types` with only `handle()` replaced: the shim keeps every body in its
 * own I/O worker thread (an OutgoingRequest's constructor already opens its body stream there) and
 * sends from that worker with no checks; nothing of it is reachable from here without its private
 * calls. So the resources that carry a request and its response are ours, over plain bytes. Streams
 * subclass the shim's wasi:io classes (jco's glue checks `instanceof` the imported class; every
 * method the guest can reach is overridden), and pollables are the shim's own (a clock pollable that
 * is ready at once), so the guest's `wasi:io/poll` keeps working unchanged.
 */
import * as wasi from '@bytecodealliance/preview2-shim';
import type { ErrorCode, HeaderError, Method, Scheme } from '@bytecodealliance/preview2-shim/interfaces/wasi-http-types';
import type { OutgoingAnswer, OutgoingCall } from '../interfaces/wasi-http.js';
import type { HostOutcome } from './protocol.js';

/** The guest thread's blocking host call (over the bridge, answered by interfaces/wasi-http.ts). */
export type CallHost = (iface: string, fn: string, args: unknown[]) => HostOutcome;
type SendOutgoing = (call: OutgoingCall) => HostOutcome;
/** The bridge name of the host's half (interfaces/wasi-http.ts answers it). */
const OUTGOING_HANDLE = ['wasi:http/outgoing-handler', 'handle'] as const;

const symbolDispose: symbol = (Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
const ShimInputStream = wasi.io.streams.InputStream as unknown as new () => object;
const ShimOutputStream = wasi.io.streams.OutputStream as unknown as new () => object;
type Pollable = ReturnType<typeof wasi.clocks.monotonicClock.subscribeDuration>;
/** Everything here is in memory, so a pollable is ready at once; `later` is for a request whose
 * body is still being written (the guest polls again a millisecond on instead of spinning). */
const ready = (): Pollable => wasi.clocks.monotonicClock.subscribeDuration(0n);
const later = (): Pollable => wasi.clocks.monotonicClock.subscribeDuration(1_000_000n);
const CLOSED = { tag: 'closed' } as const;
const WRITE_CHUNK = 1n << 20n;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Hop-by-hop headers the runner's client manages itself (preview2-shim forbids the same). */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'host']);
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function checkField(name: string, value?: Uint8Array): void {
  if (!TOKEN.test(name)) throw { tag: 'invalid-syntax' } satisfies HeaderError;
  if (value && value.some((c) => c === 0 || c === 10 || c === 13)) throw { tag: 'invalid-syntax' } satisfies HeaderError;
  if (FORBIDDEN.has(name.toLowerCase())) throw { tag: 'forbidden' } satisfies HeaderError;
}

class Fields {
  entriesList: [string, Uint8Array][] = [];
  immutable = false;

  static fromList(entries: [string, Uint8Array][]): Fields {
    const f = new Fields();
    for (const [name, value] of entries) f.append(name, value);
    return f;
  }
  static locked(entries: [string, Uint8Array][]): Fields {
    const f = new Fields();
    f.entriesList = entries;
    f.immutable = true;
    return f;
  }
  private mutable(): void {
    if (this.immutable) throw { tag: 'immutable' } satisfies HeaderError;
  }
  get(name: string): Uint8Array[] {
    const n = name.toLowerCase();
    return this.entriesList.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  }
  has(name: string): boolean {
    return this.get(name).length > 0;
  }
  set(name: string, values: Uint8Array[]): void {
    this.mutable();
    checkField(name);
    for (const v of values) checkField(name, v);
    this.delete(name);
    for (const v of values) this.entriesList.push([name, new Uint8Array(v)]);
  }
  delete(name: string): void {
    this.mutable();
    const n = name.toLowerCase();
    this.entriesList = this.entriesList.filter(([k]) => k.toLowerCase() !== n);
  }
  append(name: string, value: Uint8Array): void {
    this.mutable();
    checkField(name, value);
    this.entriesList.push([name, new Uint8Array(value)]);
  }
  entries(): [string, Uint8Array][] {
    return this.entriesList.map(([k, v]) => [k, v]);
  }
  clone(): Fields {
    const f = new Fields();
    f.entriesList = this.entries();
    return f;
  }
}

/** The guest's request body: bytes written to its stream, whole once `finish` is called. Past the
 * execution's bound (ALGA_FETCH_MAX_BYTES, as a response body) nothing more is kept and what was is
 * dropped; the request then fails with `HTTP-request-body-size` (the bound) as its response's
 * error-code. The writes and `finish` still succeed: componentize-js's `fetch()` traps on a failed
 * write, and a refusal must reach the guest as an error it can catch. */
class BodyOutputStream extends ShimOutputStream {
  constructor(private readonly body: OutgoingBody) {
    super();
  }
  checkWrite(): bigint {
    if (this.body.state !== 'open') throw CLOSED;
    return WRITE_CHUNK;
  }
  write(bytes: Uint8Array): void {
    this.body.append(bytes.length, () => new Uint8Array(bytes));
  }
  blockingWriteAndFlush(bytes: Uint8Array): void {
    this.write(bytes);
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(n: bigint): void {
    this.body.append(n > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(n), () => new Uint8Array(Number(n)));
  }
  blockingWriteZeroesAndFlush(n: bigint): void {
    this.writeZeroes(n);
  }
  splice(src: unknown, len: bigint): bigint {
    if (!(src instanceof BodyInputStream)) throw CLOSED;
    const bytes = src.read(len);
    this.write(bytes);
    return BigInt(bytes.length);
  }
  blockingSplice(src: unknown, len: bigint): bigint {
    return this.splice(src, len);
  }
  subscribe(): Pollable {
    return ready();
  }
  [symbolDispose](): void {}
}

class OutgoingBody {
  chunks: Uint8Array[] = [];
  private size = 0;
  private overflow = false;
  /** `too-large`: finished after a write went past `max` (the request fails with HTTP-request-body-size). */
  state: 'open' | 'finished' | 'dropped' | 'too-large' = 'open';
  private stream?: BodyOutputStream = new BodyOutputStream(this);

  constructor(
    private readonly contentLength: number | undefined,
    readonly max: number,
  ) {}

  /** Keeps `n` more bytes (made by `bytes`, only if they fit within the bound). */
  append(n: number, bytes: () => Uint8Array): void {
    if (this.state !== 'open') throw CLOSED;
    if (this.overflow || this.size + n > this.max) {
      this.overflow = true;
      this.chunks = [];
      return;
    }
    this.size += n;
    this.chunks.push(bytes());
  }

  write(): BodyOutputStream {
    const s = this.stream;
    if (!s) throw undefined;
    this.stream = undefined;
    return s;
  }
  static finish(body: OutgoingBody, trailers: Fields | undefined): void {
    if (body.state !== 'open') throw { tag: 'internal-error', val: 'the body was already finished' } satisfies ErrorCode;
    if (trailers) throw { tag: 'internal-error', val: 'request trailers are not supported' } satisfies ErrorCode;
    if (body.overflow) {
      body.state = 'too-large';
      return;
    }
    if (body.contentLength !== undefined && body.size !== body.contentLength) {
      body.state = 'dropped';
      throw { tag: 'HTTP-request-body-size', val: BigInt(body.size) } satisfies ErrorCode;
    }
    body.state = 'finished';
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }
  [symbolDispose](): void {
    if (this.state === 'open') this.state = 'dropped';
  }
}

class OutgoingRequest {
  methodValue: Method = { tag: 'get' };
  schemeValue: Scheme | undefined;
  authorityValue: string | undefined;
  pathValue: string | undefined;
  bodyValue: OutgoingBody | undefined;
  private bodyTaken = false;

  constructor(
    readonly headersValue: Fields,
    maxBody: number,
  ) {
    headersValue.immutable = true;
    const length = headersValue.get('content-length')[0];
    const n = length ? Number(latin1(length)) : NaN;
    this.bodyValue = new OutgoingBody(Number.isSafeInteger(n) && n >= 0 ? n : undefined, maxBody);
  }
  body(): OutgoingBody {
    if (this.bodyTaken) throw undefined;
    this.bodyTaken = true;
    return this.bodyValue!;
  }
  /** The body the guest took, or none if it never asked for one. */
  takenBody(): OutgoingBody | undefined {
    return this.bodyTaken ? this.bodyValue : undefined;
  }
  method(): Method {
    return this.methodValue;
  }
  setMethod(m: Method): void {
    if (m.tag === 'other' && !TOKEN.test(m.val)) throw undefined;
    this.methodValue = m;
  }
  pathWithQuery(): string | undefined {
    return this.pathValue;
  }
  setPathWithQuery(p: string | undefined): void {
    if (p !== undefined && !/^[A-Za-z0-9.\-_~!$&'()*+,;=:@%?/]*$/.test(p)) throw undefined;
    this.pathValue = p;
  }
  scheme(): Scheme | undefined {
    return this.schemeValue;
  }
  setScheme(s: Scheme | undefined): void {
    if (s?.tag === 'other' && !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(s.val)) throw undefined;
    this.schemeValue = s;
  }
  authority(): string | undefined {
    return this.authorityValue;
  }
  setAuthority(a: string | undefined): void {
    if (a !== undefined && !/^[A-Za-z0-9\-._~%!$&'()*+,;=:[\]]*$/.test(a)) throw undefined;
    this.authorityValue = a;
  }
  headers(): Fields {
    return this.headersValue;
  }
  [symbolDispose](): void {}
}

/** Durations are nanoseconds (bigint); the host takes milliseconds, and never waits longer than its own. */
class RequestOptions {
  connect: bigint | undefined;
  firstByte: bigint | undefined;
  betweenBytes: bigint | undefined;
  connectTimeout(): bigint | undefined {
    return this.connect;
  }
  setConnectTimeout(d: bigint | undefined): void {
    this.connect = d;
  }
  firstByteTimeout(): bigint | undefined {
    return this.firstByte;
  }
  setFirstByteTimeout(d: bigint | undefined): void {
    this.firstByte = d;
  }
  betweenBytesTimeout(): bigint | undefined {
    return this.betweenBytes;
  }
  setBetweenBytesTimeout(d: bigint | undefined): void {
    this.betweenBytes = d;
  }
  [symbolDispose](): void {}
}

/** A response body, whole in memory (the host read it within ALGA_FETCH_MAX_BYTES). */
class BodyInputStream extends ShimInputStream {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {
    super();
  }
  read(len: bigint): Uint8Array {
    if (this.offset >= this.bytes.length) throw CLOSED;
    const end = Math.min(this.bytes.length, this.offset + Number(len > WRITE_CHUNK * 64n ? WRITE_CHUNK * 64n : len));
    const out = this.bytes.slice(this.offset, end);
    this.offset = end;
    return out;
  }
  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }
  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }
  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }
  subscribe(): Pollable {
    return ready();
  }
  [symbolDispose](): void {}
}

class FutureTrailers {
  private taken = false;
  subscribe(): Pollable {
    return ready();
  }
  get(): unknown {
    if (this.taken) return { tag: 'err', val: undefined };
    this.taken = true;
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
  [symbolDispose](): void {}
}

class IncomingBody {
  private streamValue?: BodyInputStream;
  constructor(bytes: Uint8Array) {
    this.streamValue = new BodyInputStream(bytes);
  }
  stream(): BodyInputStream {
    const s = this.streamValue;
    if (!s) throw undefined;
    this.streamValue = undefined;
    return s;
  }
  static finish(_body: IncomingBody): FutureTrailers {
    return new FutureTrailers();
  }
  [symbolDispose](): void {}
}

class IncomingResponse {
  private bodyValue?: IncomingBody;
  constructor(
    private readonly statusValue: number,
    private readonly headersValue: Fields,
    body: Uint8Array,
  ) {
    this.bodyValue = new IncomingBody(body);
  }
  status(): number {
    return this.statusValue;
  }
  headers(): Fields {
    return this.headersValue;
  }
  consume(): IncomingBody {
    const b = this.bodyValue;
    if (!b) throw undefined;
    this.bodyValue = undefined;
    return b;
  }
  [symbolDispose](): void {}
}

const toMs = (ns: bigint | undefined) => (ns === undefined ? undefined : Number(ns / 1_000_000n) || 1);

function schemeOf(s: Scheme | undefined): string {
  if (!s || s.tag === 'HTTPS') return 'https';
  return s.tag === 'HTTP' ? 'http' : s.val.toLowerCase();
}

/** The request as the host takes it, or the error-code that makes it unsendable. */
function callOf(req: OutgoingRequest, options: RequestOptions | undefined, body: Uint8Array | undefined): OutgoingCall | ErrorCode {
  if (!req.authorityValue) return { tag: 'HTTP-request-URI-invalid' };
  const m = req.methodValue;
  return {
    method: m.tag === 'other' ? m.val : m.tag.toUpperCase(),
    url: `${schemeOf(req.schemeValue)}://${req.authorityValue}${req.pathValue ?? '/'}`,
    headers: req.headersValue.entriesList.map(([name, value]) => ({ name, value: latin1(value) })),
    body,
    connectTimeoutMs: toMs(options?.connect),
    firstByteTimeoutMs: toMs(options?.firstByte),
    betweenBytesTimeoutMs: toMs(options?.betweenBytes),
  };
}

type Settled = { tag: 'ok'; val: IncomingResponse } | { tag: 'err'; val: ErrorCode };

function futureClass(send: SendOutgoing) {
  return class FutureIncomingResponse {
    private settled?: Settled;
    private taken = false;
    constructor(
      private readonly request: OutgoingRequest,
      private readonly options: RequestOptions | undefined,
    ) {}
    /** Sendable once the body is whole: no body taken, or its `finish` called. */
    private sendable(): boolean {
      const body = this.request.takenBody();
      return !body || body.state !== 'open';
    }
    private settle(): Settled {
      if (this.settled) return this.settled;
      const body = this.request.takenBody();
      if (body?.state === 'dropped') return (this.settled = { tag: 'err', val: { tag: 'HTTP-request-body-size', val: undefined } });
      if (body?.state === 'too-large') return (this.settled = { tag: 'err', val: { tag: 'HTTP-request-body-size', val: BigInt(body.max) } });
      const call = callOf(this.request, this.options, body?.bytes());
      if ('tag' in call) return (this.settled = { tag: 'err', val: call });
      let answer: HostOutcome;
      try {
        answer = send(call);
      } catch (e) {
        answer = { trap: (e as Error)?.message ?? String(e) };
      }
      if (!('ok' in answer)) return (this.settled = { tag: 'err', val: 'err' in answer ? (answer.err as ErrorCode) : { tag: 'internal-error', val: answer.trap } });
      const { status, headers, body: bytes } = (answer as Extract<OutgoingAnswer, { ok: unknown }>).ok;
      const fields = Fields.locked(headers.map((h) => [h.name, new Uint8Array(Buffer.from(h.value, 'latin1'))]));
      return (this.settled = { tag: 'ok', val: new IncomingResponse(status, fields, bytes) });
    }
    subscribe(): Pollable {
      return this.sendable() ? ready() : later();
    }
    get(): unknown {
      if (this.taken) return { tag: 'err', val: undefined };
      if (!this.sendable()) return undefined;
      const settled = this.settle();
      this.taken = true;
      return { tag: 'ok', val: settled };
    }
    [symbolDispose](): void {}
  };
}

/** The guest constructs a request with its headers only: its body's bound is the execution's, read then. */
function requestClass(maxBody: () => number) {
  return class BoundedOutgoingRequest extends OutgoingRequest {
    constructor(headers: Fields) {
      super(headers, maxBody());
    }
  };
}

/** `wasi:http/types` and `outgoing-handler` over `send`; the incoming side (never reached: the
 * runner's world exports no incoming handler) stays preview2-shim's. */
function outgoingHttp(send: SendOutgoing, maxBody: () => number): { types: Record<string, unknown>; outgoingHandler: Record<string, unknown> } {
  const FutureIncomingResponse = futureClass(send);
  const shimTypes = wasi.http.types as unknown as Record<string, unknown>;
  return {
    types: {
      ...shimTypes,
      Fields,
      FutureIncomingResponse,
      FutureTrailers,
      IncomingBody,
      IncomingResponse,
      OutgoingBody,
      OutgoingRequest: requestClass(maxBody),
      RequestOptions,
    },
    outgoingHandler: {
      handle(request: OutgoingRequest, options: RequestOptions | undefined) {
        return new FutureIncomingResponse(request, options);
      },
    },
  };
}

/** The WASI import object with every version of `wasi:http/types` and `outgoing-handler` ours;
 * `maxBody`: the running execution's bound on a request body (ALGA_FETCH_MAX_BYTES). */
export function withOutgoingHttp(imports: Record<string, unknown>, callHost: CallHost, maxBody: () => number): Record<string, unknown> {
  const http = outgoingHttp((call) => callHost(OUTGOING_HANDLE[0], OUTGOING_HANDLE[1], [call]), maxBody);
  const out = { ...imports };
  for (const key of Object.keys(out)) {
    if (key.startsWith('wasi:http/types')) out[key] = http.types;
    else if (key.startsWith('wasi:http/outgoing-handler')) out[key] = http.outgoingHandler;
  }
  return out;
}
