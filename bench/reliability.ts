/**
 * Reliability, part 1: a seeded fuzz of malformed requests against `/v1/execute`, the internal
 * scheduler API and the gateway of one platform (embedded Postgres, loopback, the probe installed).
 * Counts answers by status; exits 1 on any 500 `internal_error`/`INTERNAL_ERROR` from bad input or a
 * server that stops answering. The documented 5xx of guest failures (`execute_failed`,
 * `runner_busy`, `bundle_fetch_failed`) are counted, not failures.
 * Part 2 (`--hostile N`, default 100): N hostile guests (the probe's loop, trap, rejected promise,
 * unbounded allocation, deep recursion, oversized response), each sent at the same time as a good
 * request; counts good answers that are 200 and hostile answers with their documented failure.
 * `node dist/bench/reliability.js [--requests 600] [--hostile 100] [--seed 1]`
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { loadConfig } from '../src/config.js';
import { startPlatform } from '../src/platform.js';
import { silentLogger } from '../src/shared/logger.js';
import { CACHE_DIR, ROOT, tempDir } from './support.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '600' }, seed: { type: 'string', default: '1' }, hostile: { type: 'string', default: '100' } } });
const N = Number(values.requests);
let seed = Number(values.seed) >>> 0 || 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;

const TOKEN = 'reliability-runner-token-0123456789';
const dataDir = tempDir('alga-reliability-');
const platform = await startPlatform({
  config: loadConfig({ ...process.env, ALGA_RUNNER_API_KEY: '' }),
  dataDir,
  cacheDir: CACHE_DIR,
  port: 0,
  runnerToken: TOKEN,
  serveExecute: true,
  logger: silentLogger,
  execution: { enabled: false },
});
const installed = await platform.installDir(join(ROOT, 'components', 'scheduler-probe'));

const junk = () =>
  pick<unknown>([
    null, 0, -1, 1e308, '', '\u0000', 'x'.repeat(5000), [], {}, [1, 'a'], { a: { b: { c: [] } } }, true,
    '%00', '../..', 'sha256:zz', `sha256:${'0'.repeat(64)}`, installed.contentHash, '\ud800', '💥',
  ]);
const validEnvelope = () => ({
  context: { tenant_id: installed.tenantId, extension_id: installed.registryId, install_id: installed.installId, content_hash: installed.contentHash },
  http: { method: 'GET', path: '/counter' },
});
function mutate(o: any, depth = 0): any {
  if (depth > 3 || o === null || typeof o !== 'object') return rand() < 0.3 ? junk() : o;
  const out: any = Array.isArray(o) ? [...o] : { ...o };
  for (const k of Object.keys(out)) if (rand() < 0.35) out[k] = rand() < 0.5 ? junk() : mutate(out[k], depth + 1);
  if (rand() < 0.2) out[pick(['limits', 'providers', 'secret_envelope', 'user', 'body_b64', 'query'])] = junk();
  return out;
}
const rawBody = (o: unknown) => (rand() < 0.1 ? pick(['{', '{"a":', 'null', '[]', '"', '\u0000', '{"context":{}}']) : JSON.stringify(o));

type Shot = { surface: string; method: string; path: string; headers: Record<string, string>; body?: string };
function shot(): Shot {
  const surface = pick(['execute', 'internal', 'gateway']);
  if (surface === 'execute') {
    const headers: Record<string, string> = { 'content-type': pick(['application/json', 'application/json', 'text/plain']), 'x-alga-tenant': pick([installed.tenantId, '', 'other']), 'x-alga-extension': pick([installed.registryId, '', 'x']) };
    if (rand() < 0.2) headers['x-idempotency-key'] = pick(['k1', 'k2', '']);
    return { surface, method: 'POST', path: '/v1/execute', headers, body: rawBody(mutate(validEnvelope())) };
  }
  if (surface === 'internal') {
    const id = pick([installed.installId, '%00', 'not-a-uuid', '00000000-0000-4000-8000-000000000000', '%E0%A4%A']);
    const body = mutate({ operation: pick(['list', 'get', 'create', 'update', 'delete', 'getEndpoints', 'nope']), scheduleId: junk(), endpoint: 'POST /probe', cron: pick(['0 * * * *', '* * *', junk()]), name: junk(), timezone: junk() });
    return { surface, method: 'POST', path: `/api/internal/ext-scheduler/install/${id}`, headers: { 'content-type': 'application/json', 'x-runner-auth': pick([TOKEN, TOKEN, 'wrong']) }, body: rawBody(body) };
  }
  const ext = pick([encodeURIComponent(installed.extension.manifest.name), '%00', 'x'.repeat(300), '%E0%A4%A', '..']);
  const path = pick(['/counter', '/echo', '/probe', '/%00', '/items/%ZZ', `/echo?${pick(['a=%00', 'b=' + 'y'.repeat(2000), 'c'])}`]);
  return { surface, method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']), path: `/api/ext/${ext}${path}`, headers: { 'content-type': 'application/json', 'x-alga-tenant': pick([installed.tenantId, 'other', '']) }, body: rawBody(mutate({ calls: [{ fn: 'context.get-context' }] })) };
}

const counts = new Map<string, number>();
const bad: string[] = [];
for (let i = 0; i < N; i++) {
  const s = shot();
  const res = await request(`${platform.url}${s.path}`, { method: s.method as 'GET', headers: s.headers, body: s.method === 'GET' ? undefined : s.body }).catch((e: Error) => e);
  if (res instanceof Error) {
    bad.push(`${s.surface} ${s.method} ${s.path.slice(0, 80)}: ${res.message}`);
    continue;
  }
  const text = await res.body.text();
  let status = res.statusCode;
  let error = '';
  try {
    const j = JSON.parse(text);
    if (s.surface === 'execute' && typeof j.status === 'number') status = j.status;
    error = String(j.error ?? j.code ?? '');
  } catch {
    /* plain text answers (415/400/422 of the execute route) */
  }
  const key = `${s.surface} ${status}${status >= 500 ? ` ${error.split(':')[0]}` : ''}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (status >= 500 && /internal_error|INTERNAL_ERROR|Internal error/.test(text)) bad.push(`${key}: ${s.method} ${s.path.slice(0, 80)} ${String(s.body).slice(0, 120)}`);
}
// Hostile guests interleaved with good requests: each answer must be its documented failure.
const HOSTILE: { path: string; body: unknown; limits?: object; expect: RegExp }[] = [
  { path: '/loop', body: {}, limits: { timeout_ms: 300 }, expect: /^execute_failed: timeout: execution exceeded 300 ms/ },
  { path: '/trap', body: {}, expect: /^execute_failed: guest trapped: boom/ },
  { path: '/reject', body: {}, expect: /^execute_failed: .*rejected on purpose/ },
  { path: '/alloc', body: {}, limits: { memory_mb: 64, timeout_ms: 30_000 }, expect: /^execute_failed: memory limit exceeded/ },
  { path: '/recurse', body: {}, expect: /^execute_failed: stack overflow: / },
  { path: '/big', body: { bytes: 20 * 2 ** 20 }, expect: /^execute_failed: response too large: / },
];
const execute = async (method: string, path: string, body?: unknown, limits?: object) => {
  const env = { ...validEnvelope(), http: { method, path, body_b64: body === undefined ? undefined : Buffer.from(JSON.stringify(body)).toString('base64') }, limits };
  const res = await request(`${platform.url}/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-alga-tenant': installed.tenantId, 'x-alga-extension': installed.registryId }, body: JSON.stringify(env) });
  const text = await res.body.text();
  try {
    const j = JSON.parse(text);
    return { status: typeof j.status === 'number' ? (j.status as number) : res.statusCode, error: String(j.error ?? '') };
  } catch {
    return { status: res.statusCode, error: text.slice(0, 120) };
  }
};
const H = Number(values.hostile);
const hostileCounts = new Map<string, number>();
const hostileBad: string[] = [];
let goodOk = 0;
for (let i = 0; i < H; i++) {
  const h = pick(HOSTILE);
  const [hr, gr] = await Promise.all([
    execute('POST', h.path, h.body, h.limits).catch((e: Error) => ({ status: 0, error: `no answer: ${e.message}` })),
    execute('GET', '/counter').catch((e: Error) => ({ status: 0, error: `no answer: ${e.message}` })),
  ]);
  const asDocumented = hr.status === 500 && h.expect.test(hr.error);
  const key = `POST ${h.path} ${asDocumented ? 'documented failure' : `${hr.status} ${hr.error.slice(0, 60)}`}`;
  hostileCounts.set(key, (hostileCounts.get(key) ?? 0) + 1);
  if (!asDocumented) hostileBad.push(`${key}`);
  if (gr.status === 200) goodOk++;
  else hostileBad.push(`good GET /counter alongside ${h.path}: ${gr.status} ${gr.error}`);
}

const alive = await request(`${platform.url}/healthz`).then((r) => r.statusCode).catch(() => 0);
await platform.stop();
rmSync(dataDir, { recursive: true, force: true });

for (const [k, n] of [...counts].sort()) console.log(`${k.padEnd(40)} ${n}`);
console.log(`${N} requests (seed ${values.seed}); 500 internal_error from bad input: ${bad.length}; server alive after: ${alive === 200}`);
for (const b of bad.slice(0, 20)) console.log(`  ${b}`);
for (const [k, n] of [...hostileCounts].sort()) console.log(`hostile ${k.padEnd(40)} ${n}`);
console.log(`${H} hostile guests: ${H - hostileBad.filter((b) => !b.startsWith('good')).length} answered with their documented failure; good requests alongside: ${goodOk}/${H} answered 200`);
for (const b of hostileBad.slice(0, 20)) console.log(`  ${b}`);
process.exit(bad.length === 0 && hostileBad.length === 0 && alive === 200 ? 0 : 1);
