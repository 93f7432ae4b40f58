import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { Config } from '../config.js';
import { UsageError } from './main.js';

const ACTIONS = { runs: 'GET', next: 'GET', 'run-now': 'POST' } as const;

/**
 * `alga-runner schedules <runs|next|run-now> <scheduleId>`: the platform's admin operations, asked
 * of a running server (`dev` or `serve`) over its admin routes; prints the JSON answer.
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
    },
  });
  const [action, scheduleId] = positionals;
  if (!action || !(action in ACTIONS)) throw new UsageError('schedules needs an action: runs, next or run-now');
  if (!scheduleId) throw new UsageError(`schedules ${action} needs a schedule id`);
  const base = (values.url ?? config.serverUrl ?? `http://127.0.0.1:${config.port ?? 3000}`).replace(/\/+$/, '');
  const url = new URL(`${base}/api/admin/extensions/schedules/${encodeURIComponent(scheduleId)}/${action}`);
  if (values.limit) url.searchParams.set('limit', values.limit);
  if (values.count) url.searchParams.set('count', values.count);
  if (values.tenant) url.searchParams.set('tenant', values.tenant);
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
  try {
    process.stdout.write(JSON.stringify(JSON.parse(text), null, 2) + '\n');
  } catch {
    process.stdout.write(text + '\n');
  }
  return res.statusCode < 400 ? 0 : 1;
}
