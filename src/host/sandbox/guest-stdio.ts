/**
 * The guest's stdout/stderr (console.log, the stack it prints on a trap) as lines handed to the
 * runner's logger, instead of preview2-shim's default of writing to the process's own stdio.
 * preview2-shim's Node `cli` ignores custom stdio, so we give WASIShim a `cli` whose get-stdout /
 * get-stderr return our streams. They subclass the shim's OutputStream because jco's glue checks
 * `instanceof` the imported class; every method the guest can reach is overridden.
 */
import * as wasi from '@bytecodealliance/preview2-shim';

export type StdioStream = 'stdout' | 'stderr';
export type LineSink = (stream: StdioStream, line: string) => void;

/** Output kept per execution; past it one notice line is emitted and the rest dropped. */
export const MAX_STDIO_BYTES_PER_EXECUTION = 64 * 1024;
const CHECK_WRITE_BYTES = 1n << 20n;

// The symbol jco's glue calls when the guest drops a resource (as preview2-shim resolves it).
const symbolDispose: symbol = (Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
const ShimOutputStream = wasi.io.streams.OutputStream as unknown as new () => object;

/** Splits written bytes into lines, per stream, for the execution in progress. */
export class GuestStdio {
  private partial: Record<StdioStream, string> = { stdout: '', stderr: '' };
  private written = 0;
  private truncated = false;
  /** The first lines the guest wrote to stderr in this execution: the reason it gives for a trap. */
  stderrHead: string[] = [];
  private readonly decoder = new TextDecoder();

  constructor(private sink: LineSink) {}

  /** Starts a new execution: output now goes to `sink`. */
  reset(sink: LineSink): void {
    this.sink = sink;
    this.partial = { stdout: '', stderr: '' };
    this.written = 0;
    this.truncated = false;
    this.stderrHead = [];
  }

  write(stream: StdioStream, bytes: Uint8Array): void {
    if (this.truncated) return;
    this.written += bytes.length;
    if (this.written > MAX_STDIO_BYTES_PER_EXECUTION) {
      this.truncated = true;
      this.flush();
      this.sink('stderr', `[guest output truncated after ${MAX_STDIO_BYTES_PER_EXECUTION} bytes]`);
      return;
    }
    const text = this.partial[stream] + this.decoder.decode(bytes);
    const lines = text.split('\n');
    this.partial[stream] = lines.pop()!;
    for (const line of lines) this.emit(stream, line);
  }

  private emit(stream: StdioStream, line: string): void {
    if (stream === 'stderr' && this.stderrHead.length < 3 && line.trim()) this.stderrHead.push(line.trim());
    this.sink(stream, line);
  }

  /** Emits what is left without a trailing newline (end of an execution). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.emit(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  /** WASIShim `cli` option: preview2-shim's, with our stdout/stderr and an exit that traps. */
  cli(): Record<string, unknown> {
    const out = captureStream((b) => this.write('stdout', b));
    const err = captureStream((b) => this.write('stderr', b));
    return {
      ...wasi.cli,
      stdout: { getStdout: () => out },
      stderr: { getStderr: () => err },
      // The shim's exit ends the thread; a guest calling exit fails only its own execution.
      exit: {
        exit: () => {
          throw new Error('guest called wasi:cli/exit');
        },
        exitWithCode: (code: number) => {
          throw new Error(`guest called wasi:cli/exit with code ${code}`);
        },
      },
    };
  }
}

function captureStream(write: (bytes: Uint8Array) => void): object {
  class CapturedOutput extends ShimOutputStream {
    checkWrite(): bigint {
      return CHECK_WRITE_BYTES;
    }
    write(buf: Uint8Array): void {
      write(buf);
    }
    blockingWriteAndFlush(buf: Uint8Array): void {
      write(buf);
    }
    flush(): void {}
    blockingFlush(): void {}
    writeZeroes(len: bigint): void {
      write(new Uint8Array(Number(len)));
    }
    blockingWriteZeroesAndFlush(len: bigint): void {
      write(new Uint8Array(Number(len)));
    }
    [symbolDispose](): void {} // one stream serves every execution: a guest drop must not close it
  }
  return new CapturedOutput();
}
