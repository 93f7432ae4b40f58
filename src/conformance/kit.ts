/**
 * The conformance kit: builds the conformance component once per world version, registers it and
 * installs it on a platform (the registry + scheduler server the runner calls back), then sends
 * production `/v1/execute` envelopes for every case to a runner — ours in-process, ours over HTTP,
 * or any runner that speaks the contract — and classifies each observation:
 * pass (our contract), documented (production's observation where docs/differences.md fixes a defect),
 * or fail (neither; the message names the world, function, case and step).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { buildComponent } from '../build/componentize.js';
import { PROJECT_ROOT } from '../dev/extension-dir.js';
import type { ExecuteClient, ExecuteHeaders, ExecuteRequestBody, ExecuteResponseBody } from '../shared/execute-envelope.js';
import { listInvoices } from '../server/invoicing/manual-invoices.js';
import { installExtension, registerExtension } from '../server/registry/registry.js';
import { parseManifest } from '../server/registry/manifest.js';
import { CASES, caseId, interfacesOf, type ConformanceCase, type InstallMode, type Step } from './cases.js';
import { mismatch, resolveEnv, type Match } from './match.js';
import { ECHO_PATH, REDIRECT_PATH, UI_PROXY_PATH } from './stand-ins.js';
import { WORLDS, worldPaths, type WorldSpec } from './worlds.js';

export type Outcome = 'pass' | 'documented' | 'fail';

export interface CaseResult {
  world: string;
  fn: string;
  condition: string;
  /** `<fn> [<condition>]` */
  id: string;
  outcome: Outcome;
  /** For `documented`: the docs/differences.md section the difference is. For a pass of a
   * case that has a production alternative: the defect our runner fixes. */
  decision?: string;
  /** For `fail`: what differs, naming the step; for `documented`: which steps showed production's behaviour. */
  message?: string;
  /** Every step's observation, in order. */
  observations: unknown[];
}

export interface ConformanceReport {
  target: string;
  worlds: { id: string; since: string; description: string; contentHash: string }[];
  results: CaseResult[];
  summary: { total: number; pass: number; documented: number; fail: number };
}

/** The platform side the kit needs: Postgres for the registry (and the invoices the cases write),
 * and the HTTP server's base URL (the runner fetches `<url>/healthz` and the stand-ins of
 * stand-ins.ts in the http.fetch cases). Started with `kitPlatformOptions` for the success cases of
 * clients, services, invoicing and ui-proxy. */
export interface KitPlatform {
  pool: pg.Pool;
  url?: string;
}

export interface RunConformanceOptions {
  platform: KitPlatform;
  /** The runner under test. */
  client: ExecuteClient;
  /** Shown in reports. */
  target?: string;
  /** Default: every world of worlds.ts. */
  worlds?: readonly WorldSpec[];
  /** Only cases whose id contains one of these substrings. */
  filter?: readonly string[];
  /** Component build cache (default `<project>/.alga/cache/components`). */
  buildCacheDir?: string;
  /** Cases run at once (default 4); the steps of one case run in order. */
  concurrency?: number;
  /** The target is a production runner: a historical world it cannot run is a documented
   * difference (it binds one world: docs/differences.md#all-worlds), not a failure. */
  productionTarget?: boolean;
  onProgress?: (msg: string) => void;
}

/** The user every user-present case sends. */
const USER = {
  user_id: 'user-1',
  user_email: 'ada@example.com',
  user_name: 'Ada Lovelace',
  user_type: 'internal',
  client_id: 'client-1',
  additional_fields: { team: 'blue' },
};
const CLIENT_NAME = 'Acme Corp';

function expectedUserRecord(fields: readonly string[], tenantId: string): Match {
  const all: Record<string, unknown> = {
    tenantId,
    clientName: CLIENT_NAME,
    companyName: CLIENT_NAME,
    userId: USER.user_id,
    userEmail: USER.user_email,
    userName: USER.user_name,
    userType: USER.user_type,
    clientId: USER.client_id,
    additionalFields: Object.entries(USER.additional_fields),
  };
  return { $exact: Object.fromEntries(fields.map((f) => [f, all[f]])) };
}

interface PreparedWorld {
  world: WorldSpec;
  registryId: string;
  versionId: string;
  contentHash: string;
  sharedTenant: string;
  sharedInstallId: string;
  newInstall(): Promise<{ tenantId: string; installId: string }>;
}

const BASE_MANIFEST = join(PROJECT_ROOT, 'components', 'conformance', 'manifest.json');

/** Builds (cached by source hash), registers and installs the conformance component of a world. */
async function prepareWorld(pool: pg.Pool, world: WorldSpec, runId: string, buildCacheDir: string, progress: (m: string) => void): Promise<PreparedWorld> {
  const { entry, witDir } = worldPaths(world);
  progress(`world ${world.id}: building the conformance component against ${world.witDir}`);
  const built = await buildComponent({ entry, witDir, cacheDir: buildCacheDir, onProgress: (m) => progress(`world ${world.id}: ${m}`) });
  const bytes = new Uint8Array(readFileSync(built.wasmPath));
  const base = JSON.parse(readFileSync(BASE_MANIFEST, 'utf8')) as Record<string, unknown>;
  const manifest = parseManifest({ ...base, name: `com.alga.conformance.kit-${world.id}`, source: undefined }, BASE_MANIFEST);
  const reg = await registerExtension(pool, manifest, bytes);
  let n = 0;
  const install = async (tenantId: string) => {
    const { installId } = await installExtension(pool, { tenantId, registryId: reg.registryId, versionId: reg.versionId, grantedCaps: manifest.capabilities });
    return { tenantId, installId };
  };
  const shared = await install(`conformance-${runId}-${world.id}`);
  return {
    world,
    ...reg,
    sharedTenant: shared.tenantId,
    sharedInstallId: shared.installId,
    newInstall: () => install(`conformance-${runId}-${world.id}-${++n}`),
  };
}

interface Target {
  tenantId: string;
  installId: string | null;
  mode: InstallMode;
}

async function targetFor(w: PreparedWorld, mode: InstallMode): Promise<Target> {
  switch (mode) {
    case 'fresh': {
      const i = await w.newInstall();
      return { ...i, mode };
    }
    case 'none':
      return { tenantId: w.sharedTenant, installId: null, mode };
    case 'unknown':
      return { tenantId: w.sharedTenant, installId: randomUUID(), mode };
    default:
      return { tenantId: w.sharedTenant, installId: w.sharedInstallId, mode };
  }
}

/** Production's `/v1/execute` request for one step of a case. */
function envelope(w: PreparedWorld, c: ConformanceCase, t: Target, step: Step, requestId: string, method: string, path: string, body: unknown) {
  const headers: ExecuteHeaders = { 'x-request-id': requestId };
  if (!c.env?.noRoutingHeaders) {
    headers['x-alga-tenant'] = t.tenantId;
    headers['x-alga-extension'] = w.registryId;
  }
  const req: ExecuteRequestBody = {
    context: {
      request_id: requestId,
      tenant_id: t.tenantId,
      extension_id: w.registryId,
      install_id: t.installId,
      version_id: w.versionId,
      content_hash: w.contentHash,
      config: {},
    },
    http: {
      method,
      path,
      query: {},
      headers: { 'content-type': 'application/json', 'x-alga-tenant': t.tenantId, 'x-alga-extension': w.registryId },
      body_b64: body === undefined ? null : Buffer.from(JSON.stringify(body)).toString('base64'),
    },
    limits: { timeout_ms: 30_000 },
    providers: step.grant ?? c.env?.grant ?? [],
  };
  if (c.env?.user) {
    const { client_id, ...rest } = USER;
    req.user = { ...rest, client_id, [c.env.user]: CLIENT_NAME };
  }
  if (c.env?.secrets) {
    req.secret_envelope = { ciphertext_b64: Buffer.from(JSON.stringify(c.env.secrets)).toString('base64'), algorithm: 'inline/base64' };
  }
  if (c.env?.secretEnvelope) req.secret_envelope = { ...c.env.secretEnvelope };
  return { headers, body: req };
}

function decode(b64: string | null): unknown {
  if (b64 === null) return null;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** What one execution showed: the call's result, the runner's envelope error, or the route's answer. */
function observe(res: ExecuteResponseBody, isCall: boolean): unknown {
  if (res.error !== null) return { envelope: { status: res.status, error: res.error } };
  const body = decode(res.body_b64);
  if (isCall && res.status === 200 && body && typeof body === 'object' && Array.isArray((body as { results?: unknown }).results)) {
    return (body as { results: unknown[] }).results[0] ?? null;
  }
  return { response: { status: res.status, body } };
}

function getPath(v: unknown, path: string): unknown {
  let cur = v;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Replaces `{ $step, path }` with what that step observed (null when it observed nothing there). */
function resolveSteps(v: unknown, observations: unknown[]): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveSteps(x, observations));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$step === 'number' && typeof o.path === 'string' && Object.keys(o).length === 2) {
      return getPath(observations[o.$step], o.path) ?? null;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveSteps(x, observations)]));
  }
  return v;
}

interface KitUrls {
  fetchUrl: string;
  echoUrl: string;
  redirectUrl: string;
  notFoundUrl: string;
  errorUrl: string;
}

async function runCase(w: PreparedWorld, c: ConformanceCase, client: ExecuteClient, urls: KitUrls, pool: pg.Pool): Promise<CaseResult> {
  const base = { world: w.world.id, fn: c.fn, condition: c.condition, id: caseId(c) };
  const observations: unknown[] = [];
  const failures: string[] = [];
  const documented: string[] = [];
  let target: Target;
  try {
    target = await targetFor(w, c.env?.install ?? 'shared');
  } catch (e) {
    return { ...base, outcome: 'fail', message: `could not prepare the install: ${(e as Error).message}`, observations };
  }
  for (let i = 0; i < c.steps.length; i++) {
    const step = c.steps[i]!;
    const what = step.call ?? step.route ?? (step.invoices ? 'the tenant\'s invoices' : 'step');
    const label = c.steps.length > 1 ? `step ${i + 1} (${what})` : what;
    const requestId = randomUUID();
    const env = {
      tenantId: target.tenantId,
      extensionId: w.registryId,
      installId: target.installId,
      versionId: w.versionId,
      requestId,
      worldId: w.world.id,
      ...urls,
      expectedUser: expectedUserRecord(w.world.userFields, target.tenantId),
      expectedUserV2: expectedUserRecord(w.world.userV2Fields ?? [], target.tenantId),
    };
    let method = 'POST';
    let path = '/probe';
    let body: unknown;
    if (step.call) {
      body = { calls: [{ fn: step.call, args: resolveEnv(resolveSteps(step.args ?? [], observations), env) }] };
    } else {
      [method, path] = (step.route ?? 'GET /world').split(' ') as [string, string];
      if (step.body !== undefined) body = resolveEnv(resolveSteps(step.body, observations), env);
    }
    let obs: unknown;
    if (step.invoices) {
      obs = { invoices: await listInvoices(pool, { tenantId: target.tenantId }) };
    } else {
      const e = envelope(w, c, target, step, requestId, method, path, body);
      try {
        obs = observe(await client.execute(e.headers, e.body), !!step.call);
      } catch (err) {
        obs = { envelope: { status: 0, error: `request failed: ${(err as Error).message}` } };
      }
    }
    observations.push(obs);
    if (step.expect === undefined) continue;
    const want = resolveEnv(resolveSteps(step.expect, observations), env);
    const diff = mismatch(want, obs);
    if (!diff) continue;
    if (step.production !== undefined && !mismatch(resolveEnv(resolveSteps(step.production, observations), env), obs)) {
      documented.push(label);
      continue;
    }
    // "observed absent" alone does not say what came instead (an error, the runner's envelope).
    const instead = diff.endsWith('observed absent') ? ` (the step observed ${JSON.stringify(obs)?.slice(0, 300)})` : '';
    failures.push(`${label}: ${diff}${instead}`);
  }
  if (failures.length) return { ...base, outcome: 'fail', decision: c.decision, message: failures.join('; '), observations };
  if (documented.length) return { ...base, outcome: 'documented', decision: c.decision, message: `production's behaviour at ${documented.join(', ')}`, observations };
  return { ...base, outcome: 'pass', decision: c.decision, observations };
}

async function pooled<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The cases that apply to a world (its interfaces cover every call) and pass the filter. */
export function casesFor(world: WorldSpec, filter?: readonly string[]): ConformanceCase[] {
  return CASES.filter((c) => interfacesOf(c).every((i) => world.interfaces.includes(i)))
    .filter((c) => !filter?.length || filter.some((f) => caseId(c).includes(f)));
}

const IDENTITY = CASES.find((c) => c.fn === '/v1/execute' && c.condition === 'the component of this world answers')!;
const ONE_WORLD = 'docs/differences.md#all-worlds: a runner that binds one world statically (production) cannot instantiate components built against earlier ones';

export async function runConformance(opts: RunConformanceOptions): Promise<ConformanceReport> {
  const progress = opts.onProgress ?? (() => {});
  const worlds = opts.worlds ?? WORLDS;
  const runId = randomBytes(4).toString('hex');
  const buildCacheDir = opts.buildCacheDir ?? join(PROJECT_ROOT, '.alga', 'cache', 'components');
  const base = opts.platform.url?.replace(/\/+$/, '') ?? 'http://127.0.0.1:9';
  const urls: KitUrls = {
    fetchUrl: `${base}/healthz`,
    echoUrl: `${base}${ECHO_PATH}`,
    redirectUrl: `${base}${REDIRECT_PATH}`,
    notFoundUrl: `${base}/conformance/no-such-route`,
    errorUrl: `${base}${UI_PROXY_PATH}/status-503`,
  };

  // Builds run in child processes; two at a time is what a 2-core machine affords.
  const prepared = await pooled(worlds, 2, (w) => prepareWorld(opts.platform.pool, w, runId, buildCacheDir, progress));
  const results: CaseResult[] = [];
  for (const w of prepared) {
    const cases = casesFor(w.world, opts.filter);
    progress(`world ${w.world.id}: ${cases.length} cases`);
    // First: does this world's component run at all? If not, its other cases say so instead of
    // each failing on its own.
    const identity = await runCase(w, IDENTITY, opts.client, urls, opts.platform.pool);
    if (identity.outcome === 'fail') {
      const historical = w.world.id !== 'current';
      const outcome: Outcome = historical && opts.productionTarget ? 'documented' : 'fail';
      for (const c of cases) {
        results.push({
          world: w.world.id, fn: c.fn, condition: c.condition, id: caseId(c), outcome,
          decision: outcome === 'documented' ? ONE_WORLD : undefined,
          message: `the component of world ${w.world.id} did not run: ${identity.message}`,
          observations: c === IDENTITY ? identity.observations : [],
        });
      }
      continue;
    }
    const rest = cases.filter((c) => c !== IDENTITY);
    const done = await pooled(rest, opts.concurrency ?? 4, (c) => runCase(w, c, opts.client, urls, opts.platform.pool));
    if (cases.includes(IDENTITY)) results.push(identity);
    results.push(...done);
  }
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  return {
    target: opts.target ?? 'runner',
    worlds: prepared.map((p) => ({ id: p.world.id, since: p.world.since, description: p.world.description, contentHash: p.contentHash })),
    results,
    summary: { total: results.length, pass: count('pass'), documented: count('documented'), fail: count('fail') },
  };
}
