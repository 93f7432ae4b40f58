/**
 * Configuration: the one place that reads the environment. `loadConfig()` validates every variable
 * once, at start-up, and the composition roots (`platform.ts`, `runner-service.ts`, `cli/*`) receive
 * the typed result; CLI flags are parsed by the CLI and win over the variable they stand for. A bad
 * value stops start-up with a `ConfigError` naming the variable; nothing is silently ignored.
 *
 * Adding a variable: one entry in `VARIABLES` (name, zod schema, one line saying what it is), one
 * field in `Config` filled in `loadConfig`, and the composition root hands the value down. Blank
 * values count as unset. `ALGA_*` names are ours; the others are production's (same meaning).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { HostSettings } from './host/interfaces/types.js';
import { WEAK_TOKENS } from './shared/auth.js';

/** The runner↔server token, the admin token, keys: trimmed, blank = unset. */
const text = z.string().optional();

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^[+-]?\d+$/, { error: 'expected an integer' })
    .transform(Number)
    .pipe(z.number().min(min, { error: `expected at least ${min}` }).max(max, { error: `expected at most ${max}` }))
    .optional();

const httpUrl = z
  .string()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), { error: 'expected an http:// or https:// URL' })
  .optional();

const postgresUrl = z
  .string()
  .refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), { error: 'expected a postgres:// or postgresql:// URL' })
  .optional();

const flag = z
  .string()
  .regex(/^(1|0|on|off|true|false|yes|no)$/i, { error: 'expected on or off (also 1/0, true/false, yes/no)' })
  .transform((v) => /^(1|on|true|yes)$/i.test(v))
  .optional();

const hostList = z
  .string()
  .transform((v) => v.split(',').map((h) => h.trim()).filter(Boolean))
  .optional();

/** Every variable the code reads, with what it means (the README's environment table says the same). */
export const VARIABLES = {
  NODE_ENV: { schema: text, doc: '`production` turns on production\'s refusals (weak tokens, loopback-only admin routes without a token)' },
  PORT: { schema: integer(0, 65535), doc: 'HTTP port of `dev` and `serve` (default 3000; 8080 for `--role runner`); `--port` wins' },
  ALGA_DATA_DIR: { schema: text, doc: 'project-local data: Postgres cluster, caches (default ./.alga); `--data-dir` wins' },
  DATABASE_URL: { schema: postgresUrl, doc: 'use this PostgreSQL instead of the embedded one' },
  RUNNER_STORAGE_API_TOKEN: { schema: text, doc: 'the runner↔server token (first non-blank of this and RUNNER_SERVICE_TOKEN)' },
  RUNNER_SERVICE_TOKEN: { schema: text, doc: 'the runner↔server token, when RUNNER_STORAGE_API_TOKEN is unset' },
  ALGA_RUNNER_API_KEY: { schema: text, doc: 'a key /v1/execute requires; the split shape\'s server sends it' },
  RUNNER_BASE_URL: { schema: httpUrl, doc: '`serve --role server`: execute through the runner at this URL' },
  STORAGE_API_BASE_URL: { schema: httpUrl, doc: 'where the runner calls the platform back (a trailing /api is dropped)' },
  REGISTRY_BASE_URL: { schema: httpUrl, doc: 'the callback base, when STORAGE_API_BASE_URL is unset' },
  EXT_EGRESS_ALLOWLIST: { schema: hostList, doc: 'http.fetch: comma-separated hosts (and their subdomains); unset allows every host' },
  ALGA_ADMIN_TOKEN: { schema: text, doc: 'guards /api/admin/…; without it only loopback callers; `schedules --token` wins' },
  ALGA_SCHEDULE_EXECUTION: { schema: flag, doc: '`off` starts no dispatcher or invocation worker (schedules do not fire)' },
  ALGA_SERVER_URL: { schema: httpUrl, doc: '`schedules`: the server to ask (default http://127.0.0.1:$PORT); `--url` wins' },
  EXT_GATEWAY_TIMEOUT_MS: { schema: integer(1, 2_147_483_647), doc: '`limits.timeout_ms` the gateway, scheduled runs and `exec` send: each execution\'s one deadline (default 30 000)' },
  EXT_RUNNER_MAX_RESPONSE_BYTES: { schema: integer(-2_147_483_648, 2_147_483_647), doc: 'largest runner answer a scheduled run accepts (default 262 144; ≤ 0 disables the check)' },
  ALGA_EXECUTE_MAX_TIMEOUT_MS: { schema: integer(1, 2_147_483_647), doc: 'the runner clamps a request\'s `limits.timeout_ms` to this, with a log line (default 300 000)' },
  ALGA_FETCH_MAX_BYTES: { schema: integer(1, 2_147_483_647), doc: 'http.fetch, the guest\'s `fetch()` and ui-proxy: largest response body an extension receives (default 33 554 432; larger → `internal`), and largest request body a guest\'s `fetch()` sends' },
  UI_PROXY_BASE_URL: { schema: httpUrl, doc: 'ui-proxy.call-route: base URL of the UI proxy (unset: every call answers route-not-found)' },
  UI_PROXY_TIMEOUT_MS: { schema: integer(1, 2_147_483_647), doc: 'ui-proxy.call-route: timeout of one call (default 5 000)' },
  VAULT_ADDR: { schema: httpUrl, doc: 'Vault for `vault-transit` secret envelopes (the runner decrypts them with transit decrypt)' },
  ALGA_VAULT_ADDR: { schema: httpUrl, doc: 'Vault, when VAULT_ADDR is unset' },
  ALGA_VAULT_TOKEN_FILE: { schema: text, doc: 'file holding the Vault token, read at each decrypt (default /run/secrets/alga_vault_token)' },
  ALGA_VAULT_TRANSIT_MOUNT: { schema: text, doc: 'transit mount when an envelope names none (default `transit`)' },
  VAULT_NAMESPACE: { schema: text, doc: 'Vault namespace, sent as X-Vault-Namespace' },
  ALGA_SANDBOX_PATH: { schema: z.enum(['jspi', 'bridge']).optional(), doc: 'how a guest\'s I/O imports reach the host: `jspi` (default where the Node has `WebAssembly.Suspending`, from 24.20: in the sandbox worker) or `bridge` (to the main thread; the only path on Node 20 and 22)' },
} as const;

export type VariableName = keyof typeof VARIABLES;

export interface Config {
  /** NODE_ENV=production. */
  production: boolean;
  port?: number;
  /** Absolute; `$ALGA_DATA_DIR` or `./.alga`. */
  dataDir: string;
  databaseUrl?: string;
  /** First non-blank of RUNNER_STORAGE_API_TOKEN, RUNNER_SERVICE_TOKEN. */
  runnerToken?: string;
  /** Which of the two variables `runnerToken` came from. */
  runnerTokenVariable?: 'RUNNER_STORAGE_API_TOKEN' | 'RUNNER_SERVICE_TOKEN';
  runnerApiKey?: string;
  runnerBaseUrl?: string;
  /** STORAGE_API_BASE_URL, else REGISTRY_BASE_URL, without trailing `/` or `/api`. */
  callbackBaseUrl?: string;
  egressAllowlist: string[];
  adminToken?: string;
  scheduleExecution: boolean;
  serverUrl?: string;
  execution: { timeoutMs: number; maxResponseBytes: number };
  uiProxy: { baseUrl?: string; timeoutMs: number };
  /** ALGA_EXECUTE_MAX_TIMEOUT_MS: the longest deadline an execution gets. */
  executeMaxTimeoutMs: number;
  /** ALGA_FETCH_MAX_BYTES. */
  fetchMaxBytes: number;
  /** Where the runner decrypts `vault-transit` secret envelopes. */
  vault: { addr?: string; tokenFile: string; mount?: string; namespace?: string };
}

/** A variable with a bad value; the message names it. */
export class ConfigError extends Error {
  constructor(
    readonly problems: { variable: VariableName; message: string }[],
    lead = 'invalid configuration',
  ) {
    super(`${lead}: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
  }
}

const SHOWN_CHARS = 40;

/** Reads and validates the environment (default `process.env`); throws `ConfigError` on a bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const values: Record<string, unknown> = {};
  const problems: ConfigError['problems'] = [];
  for (const [name, { schema }] of Object.entries(VARIABLES) as [VariableName, (typeof VARIABLES)[VariableName]][]) {
    const raw = env[name]?.trim();
    const parsed = schema.safeParse(raw === '' ? undefined : raw);
    if (parsed.success) values[name] = parsed.data;
    else {
      const shown = raw!.length > SHOWN_CHARS ? `${raw!.slice(0, SHOWN_CHARS)}…` : raw;
      const secret = /TOKEN|KEY/.test(name);
      problems.push({ variable: name, message: `${parsed.error.issues[0]?.message ?? 'invalid'}${secret ? '' : ` (got "${shown}")`}` });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const v = values as { [K in VariableName]: z.output<(typeof VARIABLES)[K]['schema']> };
  const callback = v.STORAGE_API_BASE_URL ?? v.REGISTRY_BASE_URL;
  return {
    production: v.NODE_ENV === 'production',
    port: v.PORT,
    dataDir: resolve(v.ALGA_DATA_DIR ?? '.alga'),
    databaseUrl: v.DATABASE_URL,
    runnerToken: v.RUNNER_STORAGE_API_TOKEN ?? v.RUNNER_SERVICE_TOKEN,
    runnerTokenVariable: v.RUNNER_STORAGE_API_TOKEN ? 'RUNNER_STORAGE_API_TOKEN' : v.RUNNER_SERVICE_TOKEN ? 'RUNNER_SERVICE_TOKEN' : undefined,
    runnerApiKey: v.ALGA_RUNNER_API_KEY,
    runnerBaseUrl: v.RUNNER_BASE_URL,
    callbackBaseUrl: callback?.replace(/\/+$/, '').replace(/\/api$/, ''),
    egressAllowlist: v.EXT_EGRESS_ALLOWLIST ?? [],
    adminToken: v.ALGA_ADMIN_TOKEN,
    scheduleExecution: v.ALGA_SCHEDULE_EXECUTION ?? true,
    serverUrl: v.ALGA_SERVER_URL?.replace(/\/+$/, ''),
    execution: { timeoutMs: v.EXT_GATEWAY_TIMEOUT_MS ?? 30_000, maxResponseBytes: v.EXT_RUNNER_MAX_RESPONSE_BYTES ?? 262_144 },
    uiProxy: { baseUrl: v.UI_PROXY_BASE_URL, timeoutMs: v.UI_PROXY_TIMEOUT_MS ?? 5_000 },
    executeMaxTimeoutMs: v.ALGA_EXECUTE_MAX_TIMEOUT_MS ?? 300_000,
    fetchMaxBytes: v.ALGA_FETCH_MAX_BYTES ?? 32 * 1024 * 1024,
    vault: {
      addr: v.VAULT_ADDR ?? v.ALGA_VAULT_ADDR,
      tokenFile: v.ALGA_VAULT_TOKEN_FILE ?? '/run/secrets/alga_vault_token',
      mount: v.ALGA_VAULT_TRANSIT_MOUNT,
      namespace: v.VAULT_NAMESPACE,
    },
  };
}

/** The environment of a child process of ours (the split shape's runner): this one's, with `overrides`. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}

/** Shortest runner token or API key `serve` accepts with NODE_ENV=production (docs/differences.md#weak-secrets). */
export const MIN_SECRET_CHARS = 24;
const GENERATE = 'generate one with `openssl rand -hex 32` (or `node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"`)';

/** Why a secret is too weak for production, or undefined. */
export function weakSecretProblem(value: string): string | undefined {
  if (WEAK_TOKENS.includes(value.toLowerCase())) return `is a well-known default; ${GENERATE}`;
  if (value.length < MIN_SECRET_CHARS) return `is shorter than ${MIN_SECRET_CHARS} characters; ${GENERATE}`;
  return undefined;
}

export type ServeRole = 'runner' | 'server' | 'all';

/**
 * `serve`'s start-up refusals with NODE_ENV=production (none otherwise): the runner↔server token and
 * the API key must be strong; the runner role needs its key, its callback base and its token.
 */
export function requireProductionSecrets(config: Config, role: ServeRole): void {
  if (!config.production) return;
  const problems: ConfigError['problems'] = [];
  const tokenVariable = config.runnerTokenVariable ?? 'RUNNER_SERVICE_TOKEN';
  if (!config.runnerToken) {
    problems.push({ variable: tokenVariable, message: `required with NODE_ENV=production (or RUNNER_STORAGE_API_TOKEN); ${GENERATE}` });
  } else {
    const weak = weakSecretProblem(config.runnerToken);
    if (weak) problems.push({ variable: tokenVariable, message: weak });
  }
  if (config.runnerApiKey) {
    const weak = weakSecretProblem(config.runnerApiKey);
    if (weak) problems.push({ variable: 'ALGA_RUNNER_API_KEY', message: weak });
  } else if (role === 'runner') {
    problems.push({ variable: 'ALGA_RUNNER_API_KEY', message: `required with NODE_ENV=production for --role runner (the same value as the server's RUNNER_SERVICE_TOKEN, which production's server sends as x-runner-service-token); ${GENERATE}` });
  }
  if (role === 'runner' && !config.callbackBaseUrl) {
    problems.push({ variable: 'STORAGE_API_BASE_URL', message: 'required with NODE_ENV=production for --role runner (the platform base URL the runner calls back; or REGISTRY_BASE_URL)' });
  }
  if (problems.length) throw new ConfigError(problems, 'refusing to start');
}

/** The runner's settings from `config`, as the host services take them (both composition roots, and
 * the sandbox workers' own services: plain data). */
export function runnerServices(config: Config): HostSettings {
  return {
    egressAllowlist: config.egressAllowlist,
    uiProxy: config.uiProxy,
    maxFetchBytes: config.fetchMaxBytes,
    refuseInternalAddresses: config.production,
  };
}

export type SandboxPath = 'jspi' | 'bridge';

/** ALGA_SANDBOX_PATH, validated (a runner built without an explicit path reads it once, at start):
 * `jspi` on a Node without JSPI is refused, naming the variable. */
export function sandboxPathFromEnv(env: Record<string, string | undefined> = process.env): SandboxPath | undefined {
  const raw = env.ALGA_SANDBOX_PATH?.trim();
  if (!raw) return undefined;
  if (raw !== 'jspi' && raw !== 'bridge') throw new ConfigError([{ variable: 'ALGA_SANDBOX_PATH', message: `expected jspi or bridge, got ${JSON.stringify(raw.slice(0, SHOWN_CHARS))}` }]);
  if (raw === 'jspi' && !jspiAvailable()) throw new ConfigError([{ variable: 'ALGA_SANDBOX_PATH', message: `jspi needs WebAssembly.Suspending (Node >= 24.20); this is Node ${process.versions.node}` }]);
  return raw;
}

/** This Node has JSPI (`WebAssembly.Suspending`, unflagged from Node 24.20). */
export function jspiAvailable(): boolean {
  return typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending === 'function';
}
