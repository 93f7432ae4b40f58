/**
 * `createTestRuntime`: an extension installed on the real platform for one test — its own database,
 * the process's shared runner (real sandbox and jco), real schedule execution driven by a manual
 * clock that is also the guest's clock. See docs/testing.md.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { buildExtensionDir, ExtensionDirError, readManifest, type LoadedExtension } from '../dev/extension-dir.js';
import { replyToWit as schedulerReply } from '../host/interfaces/scheduler.js';
import { replyToWit as storageReply } from '../host/interfaces/storage.js';
import { startPlatform, type Platform } from '../platform.js';
import { createManualClock, clockOffsetMs, type ManualClock } from '../server/execution/clock.js';
import { nextOccurrence } from '../server/execution/occurrences.js';
import { buildExecuteCall } from '../server/execute-request.js';
import { endpointMatches } from '../server/http/gateway.js';
import { loadPlatformData, parsePlatformData, type PlatformData } from '../server/platform-data/platform-data.js';
import { findInstall, type InstallRuntime } from '../server/registry/registry.js';
import { writeInstallSecrets } from '../server/secrets/install-secrets.js';
import { isKnownCapability, KNOWN_CAPABILITIES, normalizeCapability } from '../shared/capabilities.js';
import { contentHashOf } from '../shared/content-hash.js';
import { silentLogger } from '../shared/logger.js';
import { createTestDatabase } from './cluster.js';
import { addBundle, registerRoute, sharedRunner, type GuestLogLine } from './shared-runner.js';

export type { GuestLogLine } from './shared-runner.js';

export interface TestRuntimeOptions {
  /** An extension folder (built as `alga-runner dev` builds it), or a built component and its manifest. */
  extension: string | { component: string | Uint8Array; manifest: string | Record<string, unknown> };
  /** Replaces the manifest's capabilities, as `exec --grant`; the defaults (context, log, user) always apply. */
  grants?: string[];
  /** The install's secrets, as the guest's `secrets` interface reads them. */
  secrets?: Record<string, string>;
  /** The platform's clients and services: a file path or the object (the format of `dev --platform-data`). */
  platformData?: string | Record<string, unknown>;
  /** Default `local`. */
  tenant?: string;
  /** `manual` (default) starts at the real current time; `{ start }` at that instant. Only `advanceClock` moves it. */
  clock?: 'manual' | { start: string | number | Date };
  /** Most scheduled runs one `advanceClock` may cause; default 100. */
  maxRuns?: number;
  /** PostgreSQL server to create the runtime's database on; default `DATABASE_URL`, else an embedded cluster (one per process). */
  databaseUrl?: string;
  /** Build and transpile caches; default `./.alga/cache` (`ALGA_DATA_DIR`/cache). */
  cacheDir?: string;
}

/** The signed-in user a request carries (production's gateway sends the session's user). */
export interface TestUser {
  userId: string;
  userEmail: string;
  userName: string;
  userType: string;
  clientName?: string;
  clientId?: string;
}

export interface TestRequest {
  /** An object or array is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  user?: TestUser;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  text(): Promise<string>;
  json<T = any>(): Promise<T>;
}

/** One scheduled invocation's first attempt. */
export interface ScheduledRun {
  scheduleId: string;
  name: string | null;
  /** `METHOD /path` the schedule invokes. */
  endpoint: string;
  /** The occurrence it ran for (ISO instant). */
  occurrence: string;
  status: 'success' | 'error';
  httpStatus: number | null;
  error: string | null;
  /** The start of the response body. */
  response: string | null;
}

export interface TestRuntime {
  readonly tenant: string;
  readonly installId: string;
  readonly extension: { name: string; version: string };
  /** The manual clock's time (the scheduler's and the guest's). */
  now(): Date;
  request(method: string, path: string, o?: TestRequest): Promise<TestResponse>;
  /** This install's schedules, as the guest's `list-schedules` sees them. */
  schedules(): Promise<unknown[]>;
  /** Moves the clock to `to`, running every due occurrence on the way in order; resolves with the runs. */
  advanceClock(to: string | number | Date): Promise<ScheduledRun[]>;
  storage(namespace: string): { get(key: string): Promise<{ value: Uint8Array; revision: number } | undefined> };
  /** Log lines of this runtime's guests (logging interface, console), and the runner's warnings about them. */
  logs(): GuestLogLine[];
  close(): Promise<void>;
}

export class TestRuntimeError extends Error {
  override name = 'TestRuntimeError';
}

/** Builds of this process, by folder: a further runtime of the same folder does not build again. */
const builds = new Map<string, Promise<LoadedExtension>>();

function loadExtension(ext: TestRuntimeOptions['extension'], cacheDir: string): Promise<LoadedExtension> {
  if (typeof ext === 'string') {
    const dir = resolve(ext);
    let p = builds.get(dir);
    if (!p) {
      p = buildExtensionDir(dir, { cacheDir });
      builds.set(dir, p);
      p.catch(() => builds.delete(dir));
    }
    return p;
  }
  const manifestPath = typeof ext.manifest === 'string' ? resolve(ext.manifest) : undefined;
  const manifest = manifestPath ? readManifest(manifestPath) : readManifest(writeTempJson(ext.manifest));
  let component: Uint8Array;
  if (typeof ext.component === 'string') {
    const path = resolve(ext.component);
    if (!existsSync(path)) throw new ExtensionDirError(`component missing: ${path}`, 'component');
    component = new Uint8Array(readFileSync(path));
  } else component = ext.component;
  const dir = manifestPath ? resolve(manifestPath, '..') : process.cwd();
  return Promise.resolve({ dir, manifest, component, origin: { kind: 'prebuilt', path: typeof ext.component === 'string' ? resolve(ext.component) : '(bytes)', why: '--no-build' }, buildMs: 0 });
}

/** readManifest reads a file; an object manifest goes through the same validation from one. */
function writeTempJson(value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'alga-manifest-'));
  const path = join(dir, 'manifest.json');
  writeFileSync(path, JSON.stringify(value));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return path;
}

function checkGrants(grants: string[] | undefined): string[] | undefined {
  if (!grants) return undefined;
  const normalized = grants.map(normalizeCapability);
  const unknown = normalized.filter((g) => !isKnownCapability(g));
  if (unknown.length) throw new TestRuntimeError(`unknown capabilit${unknown.length > 1 ? 'ies' : 'y'} in grants: ${unknown.join(', ')} (known: ${KNOWN_CAPABILITIES.join(', ')})`);
  return normalized;
}

function toBody(body: unknown): { bytes?: Uint8Array; json: boolean } {
  if (body === undefined || body === null) return { json: false };
  if (body instanceof Uint8Array) return { bytes: body, json: false };
  if (typeof body === 'string') return { bytes: new TextEncoder().encode(body), json: false };
  return { bytes: new TextEncoder().encode(JSON.stringify(body)), json: true };
}

function response(status: number, headers: Record<string, string>, body: Uint8Array): TestResponse {
  const text = () => new TextDecoder().decode(body);
  return {
    status,
    headers,
    body,
    text: async () => text(),
    json: async () => {
      const t = text();
      try {
        return JSON.parse(t);
      } catch {
        throw new TestRuntimeError(`response (HTTP ${status}) is not JSON: ${t.slice(0, 200)}`);
      }
    },
  };
}

function instant(v: string | number | Date, what: string): Date {
  const d = new Date(v);
  if (!Number.isFinite(d.getTime())) throw new TestRuntimeError(`${what}: not a time: ${String(v)}`);
  return d;
}

export async function createTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  const config = loadConfig();
  const cacheDir = resolve(options.cacheDir ?? join(config.dataDir, 'cache'));
  const tenant = options.tenant ?? 'local';
  const maxRuns = options.maxRuns ?? 100;
  if (!Number.isInteger(maxRuns) || maxRuns < 1) throw new TestRuntimeError(`maxRuns must be a positive integer (got ${String(options.maxRuns)})`);
  const grants = checkGrants(options.grants);
  const clock: ManualClock = createManualClock(options.clock && options.clock !== 'manual' ? instant(options.clock.start, 'clock.start') : Date.now());
  let platformData: PlatformData | undefined;
  if (options.platformData !== undefined) {
    platformData = typeof options.platformData === 'string' ? loadPlatformData(resolve(options.platformData)) : parsePlatformData(options.platformData, 'platformData');
  }
  const extension = await loadExtension(options.extension, cacheDir);
  addBundle(extension.component);

  const db = await createTestDatabase(options.databaseUrl ?? config.databaseUrl, { contentHash: contentHashOf(extension.component), bytes: extension.component });
  const shared = sharedRunner(cacheDir, config);
  const runner = { execute: shared.execute, warm: shared.warm, stats: shared.stats, close: async () => {} }; // the process's; never closed here
  const guestLogs: GuestLogLine[] = [];
  let platform: Platform | undefined;
  let unroute = () => {};
  try {
    platform = await startPlatform({
      config,
      databaseUrl: db.url,
      cacheDir,
      tenantId: tenant,
      logger: silentLogger,
      runner,
      platformData,
      execution: { enabled: true, clock, dispatch: false, pollMs: 20, concurrency: 4 },
    });
    const backends = platform.backends!;
    const installed = await platform.installLoaded(extension, { tenantId: tenant, grant: grants });
    unroute = registerRoute(
      { installId: installed.installId, registryId: installed.registryId },
      { backends, workerIo: platform.workerIo, clockOffsetMs: () => clockOffsetMs(clock), onGuestLog: (l: GuestLogLine) => guestLogs.push(l) },
    );
    // Stored as `alga-runner secrets set` stores them: every execution carries the envelope.
    if (options.secrets) await writeInstallSecrets(platform.pool, { installId: installed.installId, tenantId: tenant }, options.secrets);
    const install = (await findInstall(platform.pool, tenant, installed.registryId))!;
    return runtimeOf({ version: extension.manifest.version, platform, install, clock, maxRuns, guestLogs, close: async () => {
      unroute();
      await platform!.stop();
      await db.drop().catch(() => {});
    } });
  } catch (err) {
    unroute();
    await platform?.stop();
    await db.drop().catch(() => {});
    throw err;
  }
}

function runtimeOf(o: { version: string; platform: Platform; install: InstallRuntime; clock: ManualClock; maxRuns: number; guestLogs: GuestLogLine[]; close(): Promise<void> }): TestRuntime {
  const { platform, install, clock } = o;
  const pool = platform.pool;
  const execution = platform.execution!;
  const backends = platform.backends!;
  let closed: Promise<void> | undefined;
  const open = (what: string) => {
    if (closed) throw new TestRuntimeError(`${what}: the runtime is closed`);
  };

  async function dueRows(until: Date): Promise<{ schedule_id: string; cron: string; timezone: string; next_run_at: Date }[]> {
    const r = await pool.query(
      `SELECT d.schedule_id, s.cron, s.timezone, d.next_run_at
         FROM extension_schedule_dispatch d
         JOIN tenant_extension_schedule s ON s.id = d.schedule_id
         JOIN tenant_extension_install i ON i.id = d.install_id
        WHERE d.next_run_at IS NOT NULL AND d.next_run_at <= $1 AND s.enabled AND i.is_enabled AND i.status = 'enabled'`,
      [until],
    );
    return r.rows;
  }

  /** Occurrences due in (now, to] of the schedules as they are now; stops counting past `limit`. */
  async function countDue(to: Date, limit: number): Promise<number> {
    let n = 0;
    for (const row of await dueRows(to)) {
      for (let t: Date | null = row.next_run_at; t && t.getTime() <= to.getTime(); t = nextOccurrence(row.cron, row.timezone, t)) {
        if (++n > limit) return n;
      }
    }
    return n;
  }

  async function firstAttempts(keys: { scheduleId: string; occurrence: Date }[]): Promise<ScheduledRun[]> {
    const out: ScheduledRun[] = [];
    for (const k of keys) {
      for (let i = 0; ; i++) {
        const r = await pool.query(
          `SELECT r.schedule_id, r.occurrence_at, r.status, r.http_status, r.error, r.response_excerpt, s.name, e.path AS endpoint_path, e.method AS endpoint_method
             FROM extension_schedule_run r
             LEFT JOIN tenant_extension_schedule s ON s.id = r.schedule_id
             LEFT JOIN extension_api_endpoint e ON e.id = s.endpoint_id
            WHERE r.schedule_id = $1 AND r.occurrence_at = $2 AND r.attempt = 1 AND r.trigger = 'schedule' AND r.status <> 'running'`,
          [k.scheduleId, k.occurrence],
        );
        const row = r.rows[0];
        if (row) {
          if (row.status !== 'skipped') {
            out.push({
              scheduleId: row.schedule_id,
              name: row.name ?? null,
              endpoint: `${row.endpoint_method} ${row.endpoint_path}`,
              occurrence: row.occurrence_at.toISOString(),
              status: row.status,
              httpStatus: row.http_status,
              error: row.error,
              response: row.response_excerpt,
            });
          }
          break;
        }
        await execution.idle();
        await new Promise((r) => setTimeout(r, Math.min(5 * (i + 1), 50)));
      }
    }
    return out;
  }

  return {
    tenant: install.tenantId,
    installId: install.installId,
    extension: { name: install.extensionName, version: o.version },
    now: () => clock.now(),

    async request(method, path, r = {}) {
      open('request');
      const m = method.toUpperCase();
      const url = new URL(`http://x${path.startsWith('/') ? path : `/${path}`}`);
      if (!install.endpoints.some((e) => e.method === m && endpointMatches(e.path, url.pathname))) {
        const declared = install.endpoints.map((e) => `${e.method} ${e.path}`).join(', ') || 'none';
        throw new TestRuntimeError(`${m} ${url.pathname} is not an endpoint of ${install.extensionName} (manifest.json declares: ${declared}); production's gateway answers 404 endpoint_not_found`);
      }
      const { bytes, json } = toBody(r.body);
      const headers: Record<string, string> = { ...(json ? { 'content-type': 'application/json' } : {}), ...r.headers };
      const call = buildExecuteCall(install, {
        method: m,
        path: url.pathname,
        query: { ...Object.fromEntries(url.searchParams), ...r.query },
        headers,
        body: bytes,
        user: r.user
          ? { user_id: r.user.userId, user_email: r.user.userEmail, user_name: r.user.userName, user_type: r.user.userType, client_name: r.user.clientName, client_id: r.user.clientId, additional_fields: {} }
          : undefined,
      });
      const out = await platform.runner.execute(call.headers, call.body);
      if (out.error) {
        const body = new TextEncoder().encode(JSON.stringify({ error: out.error.split(':')[0], message: out.error }));
        return response(out.status, { 'content-type': 'application/json' }, body);
      }
      return response(out.status, out.headers, out.body_b64 ? new Uint8Array(Buffer.from(out.body_b64, 'base64')) : new Uint8Array());
    },

    async schedules() {
      open('schedules');
      const reply = await backends.scheduler.call(install.installId, { operation: 'list' });
      const outcome = schedulerReply('list', reply) as { ok?: unknown[]; err?: unknown };
      if (!('ok' in outcome)) throw new TestRuntimeError(`listing schedules failed: ${String(outcome.err)} (HTTP ${reply.status})`);
      return outcome.ok as unknown[];
    },

    async advanceClock(to) {
      open('advanceClock');
      const target = instant(to, 'advanceClock');
      const from = clock.now();
      if (target.getTime() < from.getTime()) throw new TestRuntimeError(`advanceClock: ${target.toISOString()} is before the clock (${from.toISOString()}); the clock only moves forward`);
      const due = await countDue(target, o.maxRuns);
      if (due > o.maxRuns) {
        throw new TestRuntimeError(
          `advanceClock to ${target.toISOString()} would run more than maxRuns (${o.maxRuns}) scheduled occurrences (from ${from.toISOString()}); nothing ran. Advance in smaller steps or raise maxRuns.`,
        );
      }
      const runs: ScheduledRun[] = [];
      // Step from one due instant to the next, as real time would: each step fires what is due at
      // that instant and waits for those runs' first attempts before moving on.
      for (let steps = 0; ; steps++) {
        const rows = await dueRows(target);
        if (rows.length === 0) break;
        const at = new Date(Math.min(...rows.map((r) => r.next_run_at.getTime())));
        const firing = rows.filter((r) => r.next_run_at.getTime() === at.getTime());
        if (runs.length + firing.length > o.maxRuns) {
          throw new TestRuntimeError(`advanceClock: schedules created on the way would run more than maxRuns (${o.maxRuns}); stopped at ${at.toISOString()} after ${runs.length} runs`);
        }
        clock.set(at);
        await execution.tick();
        runs.push(...(await firstAttempts(firing.map((r) => ({ scheduleId: r.schedule_id, occurrence: at })))));
      }
      clock.set(target);
      return runs;
    },

    storage(namespace) {
      return {
        async get(key) {
          open('storage().get');
          const reply = await backends.storage.call(install.installId, { operation: 'get', namespace, key });
          const outcome = storageReply.get(reply, namespace, key) as { ok?: { value: Uint8Array; revision?: bigint }; err?: string };
          if (outcome.ok) return { value: outcome.ok.value, revision: Number(outcome.ok.revision ?? 0) };
          if (outcome.err === 'missing') return undefined;
          throw new TestRuntimeError(`storage get ${namespace}/${key} failed: ${String(outcome.err)} (HTTP ${reply.status})`);
        },
      };
    },

    logs: () => o.guestLogs.slice(),

    close() {
      closed ??= o.close();
      return closed;
    },
  };
}
