/**
 * `dev`'s recent executions with their guest log lines, newest first, for the dashboard: taken
 * from the structured log lines the runner writes (`execute done` / `execute failed`, and the
 * guest's lines with the same request id). In memory, the last 1 000.
 */
import type { LogFields, Logger, LogLevel } from '../shared/logger.js';

export interface ExecutionRecord {
  requestId: string;
  at: string;
  tenant: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  durationMs: number | null;
  hostCalls: number | null;
  trigger: string;
  scheduleId: string | null;
  error: string | null;
  logs: { level: LogLevel; msg: string }[];
}

const GUEST_SOURCES = new Set(['ext', 'ext-stdout', 'ext-stderr']);

export class ExecutionLog {
  private readonly items: ExecutionRecord[] = [];
  private readonly pending = new Map<string, { level: LogLevel; msg: string }[]>();
  constructor(private readonly max = 1000) {}

  /** Newest first. */
  list(): ExecutionRecord[] {
    return [...this.items].reverse();
  }

  observe(level: LogLevel, msg: string, f: LogFields): void {
    const rid = typeof f.request_id === 'string' ? f.request_id : undefined;
    if (!rid) return;
    if (typeof f.source === 'string' && GUEST_SOURCES.has(f.source)) {
      const list = this.pending.get(rid) ?? [];
      if (list.length < 200) list.push({ level, msg });
      this.pending.set(rid, list);
      if (this.pending.size > 500) this.pending.delete(this.pending.keys().next().value!);
      return;
    }
    if (msg !== 'execute done' && msg !== 'execute failed') return;
    const logs = this.pending.get(rid) ?? [];
    this.pending.delete(rid);
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    this.items.push({
      requestId: rid,
      at: new Date().toISOString(),
      tenant: str(f.tenant),
      method: str(f.method),
      path: str(f.path),
      status: num(f.status),
      durationMs: num(f.duration_ms),
      hostCalls: num(f.host_calls),
      trigger: str(f.trigger) ?? 'http',
      scheduleId: str(f.schedule_id),
      error: msg === 'execute failed' ? (str(f.error) ?? 'failed') : null,
      logs,
    });
    if (this.items.length > this.max) this.items.splice(0, this.items.length - this.max);
  }
}

/** A logger that also feeds `log` (every line, before the inner logger filters or formats it). */
export function recordingLogger(inner: Logger, log: ExecutionLog, base: LogFields = {}): Logger {
  const at = (level: LogLevel) => (m: string, f?: LogFields) => {
    log.observe(level, m, { ...base, ...f });
    inner[level](m, f);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (f) => recordingLogger(inner.child(f), log, { ...base, ...f }),
  };
}
