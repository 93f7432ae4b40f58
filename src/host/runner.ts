/**
 * The runner: production's `/v1/execute` semantics (docs/production-contract.md#execute) over jco-transpiled components run in
 * sandbox workers. Every outcome is a response envelope; nothing here throws to the caller.
 */
import { randomUUID } from 'node:crypto';
import { resolveProviders } from '../shared/capabilities.js';
import {
  envelopeError,
  executeRequestSchema,
  type ExecuteClient,
  type ExecuteHeaders,
  type ExecuteRequestBody,
  type ExecuteResponseBody,
  type ParsedExecuteRequest,
} from '../shared/execute-envelope.js';
import { contentHashHex } from '../shared/content-hash.js';
import { excerpt } from '../shared/excerpt.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { BundleError, ComponentCache, MAX_MEMORY_MB } from './component-cache.js';
import { IdempotencyCache } from './idempotency.js';
import { createSecretResolver, DEFAULT_VAULT_TOKEN_FILE, SecretDecryptError, type VaultOptions } from './secret-envelope.js';
import { createImportDispatch } from './import-dispatch.js';
import { maxFetchBytes } from './interfaces/http.js';
import type { ExecutionContext, HostServices, RequestUser } from './interfaces/index.js';
import type { ComponentSource, WorkerIoSpec } from './ports.js';
import { jspiAvailable, sandboxPathFromEnv, type SandboxPath } from '../config.js';
import { failureMessage } from './sandbox/failures.js';
import { SandboxPool, stoppedResult, type SandboxPoolStats } from './sandbox/pool.js';
import { Deadline, deadlineOf } from '../shared/deadline.js';
import type { IsolationMode } from './sandbox/ready-instances.js';
import { createWarmupHostCall } from './sandbox/warmup-host.js';
import { MemoryCapError } from './sandbox/wasm-binary.js';
import type { ExecuteRequest, HttpHeader } from './wit-types/interfaces/alga-extension-types.js';

export interface RunnerOptions {
  /** Where transpiled components are kept between runs. */
  cacheDir: string;
  components: ComponentSource;
  services?: HostServices;
  logger?: Logger;
  /** Executions in parallel (one sandbox worker each); default: the number of cores. */
  concurrency?: number;
  /** Executions that may wait for a free sandbox; past it callers get `runner_busy` (503). Default 256. */
  maxQueue?: number;
  /** Applied when a request sets no `limits.timeout_ms`. Default 30 000 ms (production has none, so a
   * looping guest would hold a sandbox forever); 0 disables it. A caller that passes a signal made by
   * `Deadline` has that one deadline honoured (the shorter of it and the request's). */
  defaultTimeoutMs?: number;
  /** A request's `limits.timeout_ms` above this is clamped to it, with a log line (production's
   * callers send their own timeouts, so refusing would break them). Default 300 000 ms. */
  maxTimeoutMs?: number;
  /** Linear-memory cap when a request sets no `limits.memory_mb`; default 256 (production's). */
  defaultMemoryMb?: number;
  /** Largest guest response (body + headers) passed on; larger fails the execution. Default 10 MiB. */
  maxResponseBytes?: number;
  /** How each execution gets fresh guest state (see sandbox/ready-instances.ts); default `snapshot`. */
  isolation?: IsolationMode;
  /** Restores by marks of a write barrier where the engine allows (sandbox/write-barrier.ts); default
   * true, false only as a bench baseline (every restore compares the whole memory). */
  writeBarrier?: boolean;
  /** The clock the sandboxes' deadlines are read on for `stats().overdue` (performance.now() time); tests move it. */
  deadlineClock?: () => number;
  /** Where vault-transit secret envelopes are decrypted (VAULT_ADDR, ALGA_VAULT_*). */
  vault?: VaultOptions;
  /** What the guest's wall clock is shifted by (a controllable clock for tests and dev); given the
   * execution's context, so one runner can serve installs on different clocks (the test kit). */
  clockOffsetMs?: (context: ExecuteRequest['context']) => number;
  /**
   * How a sandbox worker builds `services` in its own thread for this execution (the JSPI path: an
   * I/O import runs there, with no hop to the main thread; see ports.ts). undefined, or no function:
   * its I/O imports go to `services` on the main thread (the bridge). The composition root gives one
   * only where every part of `services` can be rebuilt from the spec's data (a test's `resolve` or
   * injected job engine cannot).
   */
  workerIo?: (context: ExecuteRequest['context']) => WorkerIoSpec | undefined;
  /** `jspi`: jco's JSPI glue, and the I/O imports of an execution with a `workerIo` spec run in its
   * sandbox worker; `bridge`: the sync glue, every I/O import on the main thread. Default:
   * ALGA_SANDBOX_PATH, else `jspi` where the Node has it (sandbox/guest-thread.ts). */
  sandboxPath?: SandboxPath;
  onProgress?: (msg: string) => void;
}

export interface Runner extends ExecuteClient {
  /** Transpiles and compiles a component ahead of its first request. */
  warm(contentHash: string, tenantId: string, extensionId: string): Promise<{ glueDir: string }>;
  /** The sandbox pool now: workers, those running an execution, executions waiting, those past their deadline. */
  stats(): SandboxPoolStats & {
    compiledVariants: number;
    /** The path this runner takes (RunnerOptions.sandboxPath); `jspi` also needs the component's JSPI glue. */
    sandboxPath: SandboxPath;
    /** Components loaded with the JSPI glue, and with the sync glue (a JSPI transpile that fell back). */
    jspiGlue: number;
    syncGlue: number;
  };
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_TIMEOUT_MS = 300_000;
export const DEFAULT_MEMORY_MB = 256;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 2 ** 20;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `body_b64`: absent → none; "" → empty; otherwise strict standard base64 (after trimming). */
export function decodeBody(b64: string | null | undefined): Uint8Array | undefined {
  if (b64 === null || b64 === undefined) return undefined;
  const s = b64.trim();
  if (s.length % 4 !== 0 || !BASE64.test(s)) throw new Error('invalid body base64: not valid standard base64');
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * A memory cap as compiled: the request's `memory_mb` rounded up to a power of two (at most
 * MAX_MEMORY_MB). Each cap is a compiled copy of the component (and ready instances in every
 * worker), so clients must not be able to make as many as they send distinct values: this bounds
 * them to 13 per component (docs/differences.md#memory-caps).
 */
export function quantizeMemoryMb(mb: number): number {
  return Math.min(2 ** Math.ceil(Math.log2(Math.max(1, mb))), MAX_MEMORY_MB);
}

/** `http.path` plus `query` form-urlencoded, joined with `?` or `&` as production does. */
export function requestUrl(path: string, query: Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  if (!q) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${q}`;
}

function toUser(tenantId: string, u: NonNullable<ParsedExecuteRequest['user']>): RequestUser {
  return {
    tenantId,
    userId: u.user_id,
    userEmail: u.user_email,
    userName: u.user_name,
    userType: u.user_type,
    clientName: u.client_name ?? u.company_name ?? '',
    clientId: u.client_id ?? undefined,
    additionalFields: u.additional_fields,
  };
}

export function createRunner(opts: RunnerOptions): Runner {
  const logger = opts.logger ?? silentLogger;
  const sandboxPath: SandboxPath = opts.sandboxPath ?? sandboxPathFromEnv() ?? (jspiAvailable() ? 'jspi' : 'bridge');
  if (sandboxPath === 'jspi' && !jspiAvailable()) throw new Error(`sandbox path jspi needs WebAssembly.Suspending (Node >= 24.20); this is Node ${process.versions.node}`);
  const glues = { jspi: 0, sync: 0 };
  const cache = new ComponentCache({
    cacheDir: opts.cacheDir,
    source: opts.components,
    onProgress: opts.onProgress,
    writeBarrier: opts.writeBarrier,
    jspi: sandboxPath === 'jspi',
    onLoaded: (c) => glues[c.jspi ? 'jspi' : 'sync']++,
  });
  const pool = new SandboxPool({
    size: opts.concurrency,
    maxQueue: opts.maxQueue,
    isolation: opts.isolation,
    now: opts.deadlineClock,
    warmupHostCall: createWarmupHostCall(),
  });
  const defaultMemoryMb = opts.defaultMemoryMb ?? DEFAULT_MEMORY_MB;
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxTimeoutMs = opts.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS;
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const idempotency = new IdempotencyCache();
  const resolveSecrets = createSecretResolver(opts.vault ?? { tokenFile: DEFAULT_VAULT_TOKEN_FILE });

  async function execute(headers: ExecuteHeaders, rawBody: ExecuteRequestBody, signal?: AbortSignal): Promise<ExecuteResponseBody> {
    const tenant = headers['x-alga-tenant']?.trim();
    const extension = headers['x-alga-extension']?.trim();
    if (!tenant || !extension) return envelopeError(400, 'missing_routing_headers');
    const parsed = executeRequestSchema.safeParse(rawBody);
    if (!parsed.success) return envelopeError(400, `invalid_request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const req = parsed.data;
    const idemKey = headers['x-idempotency-key']?.trim();
    if (!idemKey) return run(tenant, extension, req, headers, signal);
    // A key replays only the same request: same tenant, install, method and path, same query and body.
    const scope = { tenant, install: req.context.install_id ?? extension, method: req.http.method, path: req.http.path };
    const seen = idempotency.lookup(scope, idemKey, IdempotencyCache.fingerprint([req.http.query, req.http.body_b64?.trim() ?? null]));
    if (seen.kind !== 'run') return seen.response;
    let out: ExecuteResponseBody | undefined;
    try {
      out = await run(tenant, extension, req, headers, signal);
      return out;
    } finally {
      seen.finish(out ?? envelopeError(500, 'execute_failed'), out?.error === null);
    }
  }

  /**
   * The execution's one deadline: the caller's when it passed one (in-process callers do), else one
   * made here from `limits.timeout_ms` (the `/v1/execute` entry); either way no later than the
   * request's own budget, clamped as configured.
   */
  function deadlineFor(req: ParsedExecuteRequest, signal: AbortSignal | undefined, log: Logger): { deadline: Deadline; own: boolean } {
    // Production's deadline is max(1, timeout_ms/10) ticks of 10 ms: a requested 0 is the shortest
    // deadline, not "none" (only the operator's defaultTimeoutMs = 0 turns the deadline off).
    const requestedTimeout = req.limits?.timeout_ms;
    let timeoutMs = requestedTimeout === null || requestedTimeout === undefined ? defaultTimeoutMs : Math.max(10, requestedTimeout);
    if (requestedTimeout !== null && requestedTimeout !== undefined && timeoutMs > maxTimeoutMs) {
      log.info('timeout_ms clamped to the configured maximum', { requested_timeout_ms: requestedTimeout, timeout_ms: maxTimeoutMs });
      timeoutMs = maxTimeoutMs;
    }
    const budget = timeoutMs > 0 ? timeoutMs : undefined;
    const callers = deadlineOf(signal);
    if (!callers) return { deadline: new Deadline(budget, signal), own: true };
    callers.tighten(budget);
    return { deadline: callers, own: false };
  }

  async function run(tenant: string, extension: string, req: ParsedExecuteRequest, headers: ExecuteHeaders, signal?: AbortSignal): Promise<ExecuteResponseBody> {
    const requestId = req.context.request_id ?? headers['x-request-id'] ?? randomUUID();
    // What an execution line shows: the call, and what triggered it (a schedule's call says so).
    const trigger = req.http.headers['x-alga-trigger'];
    const log = logger.child({
      request_id: requestId, tenant, extension, method: req.http.method, path: req.http.path,
      ...(trigger ? { trigger, schedule_id: req.http.headers['x-alga-schedule-id'] } : {}),
    });
    const { deadline, own } = deadlineFor(req, signal, log);
    // The caller going away is said once; the deadline passing is the execution's own failure line.
    const onAbort = () => {
      if (!deadline.expired) log.warn('caller went away: stopping the guest');
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await runWithin(deadline, log, requestId, tenant, extension, req);
    } finally {
      deadline.signal.removeEventListener('abort', onAbort);
      if (own) deadline.dispose();
    }
  }

  /** Our own load (bundle, transpile, compile) inside an execution: held off its deadline (see shared/deadline.ts), and given up when the deadline's signal fires. */
  async function load<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
    const release = deadline.hold();
    try {
      return await deadline.race(work());
    } finally {
      release();
    }
  }

  /** The envelope of an execution stopped before its guest ran (the deadline, or the caller gone). */
  function stoppedEnvelope(deadline: Deadline, log: Logger, started: number): ExecuteResponseBody {
    const r = stoppedResult(deadline) as { reason: 'timeout' | 'cancelled'; message: string };
    log.warn('execute failed', { duration_ms: Date.now() - started, reason: r.reason, error: r.message });
    return envelopeError(500, `execute_failed: ${r.message}`);
  }

  async function runWithin(deadline: Deadline, log: Logger, requestId: string, tenant: string, extension: string, req: ParsedExecuteRequest): Promise<ExecuteResponseBody> {
    const started = Date.now();
    log.info('execute start');

    // Client mistakes are 4xx in the envelope (production's strings, ours the status): a hash that
    // cannot be one, a body that is not base64, a memory cap below the component's own minimum.
    if (!/^[0-9a-f]{64}$/.test(contentHashHex(req.context.content_hash))) {
      return envelopeError(400, `bundle_fetch_failed: invalid content hash ${excerpt(req.context.content_hash)}`);
    }
    let component;
    try {
      component = await load(deadline, () => cache.get({ tenantId: tenant, extensionId: extension, contentHash: req.context.content_hash }));
    } catch (e) {
      if (deadline.signal.aborted) return stoppedEnvelope(deadline, log, started);
      const msg = e instanceof BundleError ? e.message : `could not load component: ${(e as Error).message}`;
      log.warn('execute failed', { error: msg });
      return envelopeError(502, `bundle_fetch_failed: ${msg}`);
    }

    const { granted, unknown } = resolveProviders(req.providers);
    if (unknown.length) return envelopeError(400, `unknown_capabilities: ${unknown.slice(0, 5).map((u) => (u.length > 64 ? `${u.slice(0, 64)}…` : u)).join(', ')}${unknown.length > 5 ? `, … (${unknown.length} in all)` : ''}`);

    let secrets: Record<string, string> | undefined;
    if (req.secret_envelope) {
      try {
        secrets = await resolveSecrets({ tenantId: tenant, extensionId: extension, installId: req.context.install_id ?? undefined }, req.secret_envelope);
      } catch (e) {
        // The reason names what failed, never a value (see secret-envelope.ts).
        log.warn('execute failed', { error: 'secret_decrypt_failed', reason: e instanceof SecretDecryptError ? e.message : 'unexpected error' });
        return envelopeError(500, 'secret_decrypt_failed');
      }
    }

    let body: Uint8Array | undefined;
    try {
      body = decodeBody(req.http.body_b64);
    } catch (e) {
      return envelopeError(400, `execute_failed: ${(e as Error).message}`);
    }

    const witRequest: ExecuteRequest = {
      context: {
        requestId,
        tenantId: req.context.tenant_id,
        extensionId: req.context.extension_id,
        installId: req.context.install_id ?? undefined,
        versionId: req.context.version_id ?? undefined,
      },
      http: {
        method: req.http.method,
        url: requestUrl(req.http.path, req.http.query),
        headers: Object.entries(req.http.headers).map(([name, value]) => ({ name, value })),
        body,
      },
    };
    const ctx: ExecutionContext = {
      context: witRequest.context,
      granted,
      user: req.user ? toUser(req.context.tenant_id, req.user) : undefined,
      secrets,
      logger: log,
      services: opts.services ?? {},
      guestLogs: [],
    };
    const memoryMb = quantizeMemoryMb(req.limits?.memory_mb ?? defaultMemoryMb);
    let variant;
    try {
      variant = await load(deadline, () => component.variant(memoryMb));
    } catch (e) {
      if (deadline.signal.aborted) return stoppedEnvelope(deadline, log, started);
      const msg = e instanceof MemoryCapError ? e.message : `could not compile component: ${(e as Error).message}`;
      log.warn('execute failed', { error: msg });
      return envelopeError(e instanceof MemoryCapError && e.belowMinimum ? 400 : 500, `execute_failed: ${msg}`);
    }
    const result = await pool.run({
      deadline,
      variant,
      request: witRequest,
      data: { context: ctx.context, granted: ctx.granted, user: ctx.user, secrets: ctx.secrets },
      clockOffsetMs: opts.clockOffsetMs?.(witRequest.context) ?? 0,
      maxResponseBytes,
      maxOutgoingBodyBytes: maxFetchBytes(ctx.services),
      onHostCall: createImportDispatch(ctx),
      workerIo: variant.jspi ? opts.workerIo?.(witRequest.context) : undefined,
      onGuestOutput: (stream, line) => log[stream === 'stdout' ? 'info' : 'warn'](line, { source: `ext-${stream}` }),
      onLog: (level, msg, fields) => log[level](msg, fields),
    });
    const duration_ms = Date.now() - started;
    // Where the time went: host calls as the guest waited for them (bridge + host work).
    const calls = result.hostCalls
      ? {
          host_calls: result.hostCalls.count,
          host_call_ms: Math.round(result.hostCalls.ms * 1000) / 1000,
          ...(result.hostCalls.inWorker ? { host_calls_in_worker: result.hostCalls.inWorker } : {}),
        }
      : {};
    if (!result.ok) {
      log.warn('execute failed', { duration_ms, ...calls, reason: result.reason, error: result.message });
      if (result.reason === 'busy') return envelopeError(503, `runner_busy: ${result.message}`);
      return envelopeError(500, `execute_failed: ${failureMessage(result, memoryMb)}`);
    }
    const out: ExecuteResponseBody = {
      status: result.response.status,
      headers: Object.fromEntries(result.response.headers.map((h: HttpHeader) => [h.name, h.value])),
      body_b64: result.response.body ? Buffer.from(result.response.body).toString('base64') : null,
      error: null,
    };
    log.info('execute done', { duration_ms, ...calls, status: out.status });
    return out;
  }

  /** Transpiles and compiles the component, and has every sandbox instantiate it ahead of requests. */
  async function warm(contentHash: string, tenantId: string, extensionId: string): Promise<{ glueDir: string }> {
    const component = await cache.get({ tenantId, extensionId, contentHash });
    await pool.prepare(await component.variant(defaultMemoryMb));
    return { glueDir: component.glueDir };
  }

  return {
    execute,
    warm,
    stats: () => ({ ...pool.stats(), compiledVariants: cache.variantCount(), sandboxPath, jspiGlue: glues.jspi, syncGlue: glues.sync }),
    close: async () => {
      idempotency.close();
      await pool.close();
    },
  };
}
