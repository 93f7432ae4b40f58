/**
 * The lines an execution writes in its sandbox worker (its logger's lines — the guest's logging
 * import — and its stdout/stderr), handed to the main thread through shared memory instead of one
 * message each: a message per line woke the main thread for every `log-info` call, which cost the
 * process more CPU than the rest of the call (docs/sandbox.md). The worker appends lines here and
 * posts one `lines` message when the ring goes from drained to not; the main thread drains the ring
 * a little later (one wake-up for many lines), and at once before it handles any other message of
 * the worker (so lines keep their order with the execution's end) and before it stops a worker (so
 * a guest stopped at its deadline loses no line it wrote). A line that does not fit is posted as a
 * message instead, and so is every later line of that execution, which keeps the order.
 *
 * Layout: three Int32 words (write position, read position, nudged flag), then the data bytes.
 * Positions count bytes, stay multiples of 4 and wrap at 2^32 (the capacity divides it). An entry:
 * u32 length of what follows, u32 task id, u8 kind, u8 level or stream, u16 0, u32 text length,
 * u32 fields length, the text, then the fields as JSON (none: length 0), padded to 4. An entry never wraps:
 * a length of WRAP sends the reader to the start. Only the worker moves the write position, only
 * the main thread the read position.
 */
import type { LogFields, LogLevel } from '../../shared/logger.js';
import type { StdioStream } from './guest-stdio.js';

/** A line of one execution (`taskId`). */
export type RingLine =
  | { kind: 'log'; taskId: number; level: LogLevel; msg: string; fields?: LogFields }
  | { kind: 'stdio'; taskId: number; stream: StdioStream; line: string };

const WRITE = 0;
const READ = 1;
const NUDGED = 2;
const HEADER_BYTES = 16;
const ENTRY_HEAD = 20;
const WRAP = 0xffffffff;
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const STREAMS: readonly StdioStream[] = ['stdout', 'stderr'];
/** Bytes of lines held until the main thread drains them (a power of two). */
export const LINE_RING_BYTES = 256 * 1024;

export function lineRingBuffer(capacity = LINE_RING_BYTES): SharedArrayBuffer {
  if (capacity < 64 || (capacity & (capacity - 1)) !== 0) throw new Error('line ring capacity must be a power of two of at least 64');
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

export class LineRing {
  private readonly words: Int32Array;
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly capacity: number;
  private readonly encoder = new TextEncoder();
  /** The JSON of the last fields written: a logger passes the same object, unchanged, line after line. */
  private lastFields: LogFields | undefined;
  private lastFieldsJson = '';

  constructor(private readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, 3);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
    this.view = new DataView(buffer, HEADER_BYTES);
    this.capacity = this.data.length;
  }

  /** Worker: appends a line; false when it does not fit now (or its fields are not JSON). 'nudge'
   * when the main thread must be told (the ring was drained since the last nudge). */
  write(line: RingLine): boolean | 'nudge' {
    const text = line.kind === 'log' ? line.msg : line.line;
    let json = '';
    if (line.kind === 'log' && line.fields !== undefined) {
      if (line.fields !== this.lastFields) {
        try {
          this.lastFieldsJson = JSON.stringify(line.fields) ?? '';
        } catch {
          return false;
        }
        this.lastFields = line.fields;
      }
      json = this.lastFieldsJson;
    }
    const size = (ENTRY_HEAD + Buffer.byteLength(text) + Buffer.byteLength(json) + 3) & ~3;
    const w = Atomics.load(this.words, WRITE) >>> 0;
    let at = w % this.capacity;
    let free = this.capacity - ((w - (Atomics.load(this.words, READ) >>> 0)) >>> 0);
    let skip = 0;
    if (this.capacity - at < size) {
      skip = this.capacity - at; // no room before the end: go to the start
      free -= skip;
      at = 0;
    }
    if (size > free) return false;
    const textBytes = this.encoder.encodeInto(text, this.data.subarray(at + ENTRY_HEAD)).written;
    const jsonBytes = json ? this.encoder.encodeInto(json, this.data.subarray(at + ENTRY_HEAD + textBytes)).written : 0;
    this.view.setUint32(at, size - 4, true);
    this.view.setUint32(at + 4, line.taskId, true);
    this.view.setUint8(at + 8, line.kind === 'log' ? 0 : 1);
    this.view.setUint8(at + 9, line.kind === 'log' ? LEVELS.indexOf(line.level) : STREAMS.indexOf(line.stream));
    this.view.setUint32(at + 12, textBytes, true);
    this.view.setUint32(at + 16, jsonBytes, true);
    if (skip) this.view.setUint32(w % this.capacity, WRAP, true);
    Atomics.store(this.words, WRITE, (w + skip + size) | 0);
    return Atomics.compareExchange(this.words, NUDGED, 0, 1) === 0 ? 'nudge' : true;
  }

  /** Main thread: every line written so far, oldest first; the ring is then empty. */
  drain(): RingLine[] {
    Atomics.store(this.words, NUDGED, 0); // before reading: a line written after this nudges again
    const w = Atomics.load(this.words, WRITE) >>> 0;
    let r = Atomics.load(this.words, READ) >>> 0;
    const out: RingLine[] = [];
    while (r !== w) {
      const at = r % this.capacity;
      const n = this.view.getUint32(at, true);
      if (n === WRAP) {
        r = (r + this.capacity - at) >>> 0;
        continue;
      }
      const taskId = this.view.getUint32(at + 4, true);
      const kind = this.view.getUint8(at + 8);
      const code = this.view.getUint8(at + 9);
      const textBytes = this.view.getUint32(at + 12, true);
      const jsonBytes = this.view.getUint32(at + 16, true);
      const start = HEADER_BYTES + at + ENTRY_HEAD;
      const text = Buffer.from(this.buffer, start, textBytes).toString('utf8');
      if (kind === 0) {
        const line: RingLine = { kind: 'log', taskId, level: LEVELS[code] ?? 'info', msg: text };
        if (jsonBytes) line.fields = JSON.parse(Buffer.from(this.buffer, start + textBytes, jsonBytes).toString('utf8')) as LogFields;
        out.push(line);
      } else {
        out.push({ kind: 'stdio', taskId, stream: STREAMS[code] ?? 'stdout', line: text });
      }
      r = (r + n + 4) >>> 0;
    }
    Atomics.store(this.words, READ, r | 0);
    return out;
  }
}

/** Worker: sends an execution's lines through the ring, and when one does not fit, that one and
 * every later one as messages (`post`), so the main thread sees them in the order written. */
export class LineSender {
  private posting = false;

  constructor(
    private readonly ring: LineRing,
    private readonly post: (line: RingLine | 'nudge') => void,
  ) {}

  /** A new execution: the ring again (the main thread drained it before it sent the execution). */
  reset(): void {
    this.posting = false;
  }

  send(line: RingLine): void {
    if (!this.posting) {
      const written = this.ring.write(line);
      if (written === 'nudge') this.post('nudge');
      if (written) return;
      this.posting = true;
    }
    this.post(line);
  }
}
