/**
 * What `alga-runner dev` prints while it serves (pretty format): one line per execution (time,
 * method, path, status, duration, host calls, trigger) with the guest's log lines under it, schedule
 * retries and dropped occurrences, tenants installed on demand, warnings and errors. Other info lines
 * (per host call, start-up chatter) are left out; `--log-format json` prints every structured line
 * instead, `--quiet` only warnings and errors. Colours only on a terminal.
 */
import { createLogger, type LogFields, type Logger, type LogLevel } from '../shared/logger.js';

export interface DevConsoleOptions {
  format: 'pretty' | 'json';
  quiet: boolean;
  color: boolean;
  /** Where a line goes (stdout for pretty, stderr for json in `dev`). */
  write: (line: string) => void;
}

const ANSI = { dim: '2', red: '31', green: '32', yellow: '33', cyan: '36', bold: '1' } as const;
type Colour = keyof typeof ANSI;

/** Info lines that are not worth a line of their own here (the execution line says it). */
const HIDDEN_INFO = new Set(['execute start', 'scheduler host API call', 'storage host API call']);
/** Guest output waiting for its execution's line, by request id (bounded). */
const MAX_PENDING = 500;

export function createDevConsole(o: DevConsoleOptions): Logger {
  if (o.format === 'json') return createLogger({ level: o.quiet ? 'warn' : 'info', format: 'json', write: o.write });
  const paint = (c: Colour, s: string) => (o.color ? `\u001b[${ANSI[c]}m${s}\u001b[0m` : s);
  const pending = new Map<string, string[]>();
  const time = () => new Date().toTimeString().slice(0, 8);

  function guestLine(level: LogLevel, msg: string, f: LogFields): string {
    const lvl = level === 'error' ? paint('red', 'error') : level === 'warn' ? paint('yellow', 'warn ') : paint('dim', level.padEnd(5));
    const rid = typeof f.request_id === 'string' ? paint('dim', `  req ${f.request_id.slice(0, 8)}`) : '';
    return `         ${paint('dim', '│')} ${lvl} ${msg}${rid}`;
  }

  function executionLine(level: LogLevel, msg: string, f: LogFields): string {
    const status = typeof f.status === 'number' ? f.status : undefined;
    const failed = msg === 'execute failed';
    const shown = status !== undefined ? String(status) : 'failed';
    const statusText = failed || (status ?? 500) >= 500 ? paint('red', shown) : (status ?? 0) >= 400 ? paint('yellow', shown) : paint('green', shown);
    const parts = [
      `${f.method ?? '?'} ${f.path ?? '?'}`,
      statusText,
      typeof f.duration_ms === 'number' ? `${f.duration_ms} ms` : undefined,
      typeof f.host_calls === 'number' ? `${f.host_calls} host call${f.host_calls === 1 ? '' : 's'}` : undefined,
      f.trigger ? paint('cyan', `${f.trigger}${f.schedule_id ? ` ${String(f.schedule_id).slice(0, 8)}` : ''}`) : 'http',
      f.tenant && f.tenant !== 'local' ? `tenant ${f.tenant}` : undefined,
    ].filter(Boolean);
    const error = failed && f.error ? `\n         ${paint('red', '✖')} ${f.error}` : '';
    void level;
    return `${paint('dim', time())} ${parts.join('  ')}${error}`;
  }

  function other(level: LogLevel, msg: string, f: LogFields): string {
    const mark = level === 'error' ? paint('red', '✖') : level === 'warn' ? paint('yellow', '⚠') : paint('dim', '·');
    if (msg === 'scheduled invocation failed') {
      const retry = typeof f.attempt === 'number' && typeof f.of === 'number' && f.attempt < f.of;
      return `${paint('dim', time())} ${mark} scheduled run failed (attempt ${f.attempt}/${f.of}${retry ? ', will retry' : ', no retries left'}): ${f.error}`;
    }
    if (msg.startsWith('missed schedule occurrences dropped')) {
      return `${paint('dim', time())} ${mark} schedule ${f.scheduleId}: ${f.dropped} missed occurrence(s) dropped since ${f.firstMissed}; running only ${f.running}`;
    }
    const { request_id: _r, tenant: _t, extension: _e, source: _s, ...rest } = f;
    const extra = Object.entries(rest)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${paint('dim', time())} ${mark} ${msg}${extra ? paint('dim', `  ${extra}`) : ''}`;
  }

  function sink(level: LogLevel, msg: string, f: LogFields): void {
    // A split runner's own lines arrive as text, one JSON object a line: read them as ours.
    if (f.source === 'runner') {
      for (const line of msg.split('\n')) {
        try {
          const { level: l, msg: m, time: _time, ...rest } = JSON.parse(line) as { level: LogLevel; msg: string; time?: string } & LogFields;
          if (l && typeof m === 'string') sink(l, m, rest);
          continue;
        } catch {
          // not JSON: shown as it is
        }
        if (line.trim()) sink('info', line, {});
      }
      return;
    }
    if (level === 'debug') return;
    const rid = typeof f.request_id === 'string' ? f.request_id : undefined;
    if (f.source === 'ext' || f.source === 'ext-stdout' || f.source === 'ext-stderr') {
      if (o.quiet && level === 'info') return;
      if (!rid || o.quiet) return o.write(guestLine(level, msg, f));
      const list = pending.get(rid) ?? [];
      list.push(guestLine(level, msg, f));
      pending.set(rid, list);
      if (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value!);
      return;
    }
    if (msg === 'execute done' || msg === 'execute failed') {
      const guest = rid ? (pending.get(rid) ?? []) : [];
      if (rid) pending.delete(rid);
      if (o.quiet && msg === 'execute done' && (typeof f.status !== 'number' || f.status < 500)) return;
      o.write([executionLine(level, msg, f), ...guest].join('\n'));
      return;
    }
    if (level === 'info' && (o.quiet || HIDDEN_INFO.has(msg))) return;
    o.write(other(level, msg, f));
  }

  const make = (base: LogFields): Logger => ({
    debug: (m, f) => sink('debug', m, { ...base, ...f }),
    info: (m, f) => sink('info', m, { ...base, ...f }),
    warn: (m, f) => sink('warn', m, { ...base, ...f }),
    error: (m, f) => sink('error', m, { ...base, ...f }),
    child: (f) => make({ ...base, ...f }),
  });
  return make({});
}
