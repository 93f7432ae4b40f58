import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { Config } from '../config.js';
import type { ScheduleInfo } from '../server/execution/admin.js';
import { UsageError } from './main.js';

const ACTIONS = { list: 'GET', runs: 'GET', next: 'GET', 'run-now': 'POST' } as const;

/**
 * `alga-runner schedules list | <runs|next|run-now> <scheduleId>`: the platform's admin operations,
 * asked of a running server (`dev` or `serve`) over its admin routes. `list` prints a table
 * (`--json`: the answer); the others print the JSON answer.
 */
export async function runSchedules(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      limit: { type: 'string' },
      count: { type: 'string' },
      tenant: { type: 'string' },
      extension: { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [action, scheduleId] = positionals;
  if (!action || !(action in ACTIONS)) throw new UsageError('schedules needs an action: list, runs, next or run-now');
  if (action !== 'list' && !scheduleId) throw new UsageError(`schedules ${action} needs a schedule id`);
  if (values.at !== undefined && action !== 'run-now') throw new UsageError('--at goes with run-now');
  const base = (values.url ?? config.serverUrl ?? `http://127.0.0.1:${config.port ?? 3000}`).replace(/\/+$/, '');
  const url = new URL(
    action === 'list' ? `${base}/api/admin/extensions/schedules` : `${base}/api/admin/extensions/schedules/${encodeURIComponent(scheduleId!)}/${action}`,
  );
  if (values.limit) url.searchParams.set('limit', values.limit);
  if (values.count) url.searchParams.set('count', values.count);
  if (values.tenant) url.searchParams.set('tenant', values.tenant);
  if (values.extension) url.searchParams.set('extension', values.extension);
  if (values.at) url.searchParams.set('at', values.at);
  const token = values.token ?? config.adminToken;
  let res;
  try {
    res = await request(url, {
      method: ACTIONS[action as keyof typeof ACTIONS],
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  } catch (e) {
    throw new Error(`cannot reach the server at ${base} (is \`alga-runner dev\` running? --url sets it): ${(e as Error).message}`);
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    process.stdout.write(text + '\n');
    return res.statusCode < 400 ? 0 : 1;
  }
  if (action === 'list' && res.statusCode < 400 && !values.json) process.stdout.write(scheduleTable((body as { schedules: ScheduleInfo[] }).schedules));
  else process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  return res.statusCode < 400 ? 0 : 1;
}

/** An instant as the wall clock of `timeZone` shows it: `2026-12-03 09:35`. */
export function inZone(iso: string, timeZone: string): string {
  try {
    return new Date(iso).toLocaleString('sv-SE', { timeZone, hour12: false }).slice(0, 16);
  } catch {
    return iso;
  }
}

function scheduleTable(list: ScheduleInfo[]): string {
  if (!list.length) return 'no schedules (POST an extension\'s setup endpoint, or create one through the scheduler host API)\n';
  return (
    list
      .map((s) => {
        const next = s.next.length ? s.next.map((n) => inZone(n, s.timezone)).join(', ') : '—';
        const last = s.lastRunStatus ? `${s.lastRunStatus}${s.lastRunAt ? ` at ${inZone(s.lastRunAt, s.timezone)}` : ''}${s.lastError ? `: ${s.lastError}` : ''}` : 'never ran';
        return [
          `${s.name ?? '(unnamed)'}  ${s.id}`,
          `  ${s.extension}, tenant ${s.tenantId}, ${s.enabled ? 'enabled' : 'disabled'}`,
          `  ${s.method ?? '?'} ${s.path ?? '(endpoint gone)'}  ${s.cron}  ${s.cronText ?? '(not a valid cron)'} (${s.timezone})`,
          `  next (${s.timezone}): ${next}`,
          `  last run: ${last}`,
        ].join('\n');
      })
      .join('\n\n') + '\n'
  );
}
