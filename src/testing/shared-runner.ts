/**
 * One runner per test process, shared by every test runtime: transpiled and compiled components,
 * sandbox workers and their ready instances are made once, so a further runtime for the same
 * component costs only its database. Each runtime registers its installs here; the runner's host
 * calls (scheduler, storage), component bytes, guest clock and guest log lines are routed to the
 * runtime that owns the install (install ids and registry ids are random UUIDs, unique across
 * runtimes). Sandbox workers never hold the process open.
 */
import { createRunner, type Runner } from '../host/runner.js';
import type { PlatformApiBackend, SchedulerBackend, StorageBackend, WorkerIoSpec } from '../host/ports.js';
import { runnerServices, type Config } from '../config.js';
import { contentHashHex, contentHashOf } from '../shared/content-hash.js';
import type { LogFields, Logger } from '../shared/logger.js';

export interface GuestLogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  requestId?: string;
  /** `ext` (the logging interface), `ext-stdout` or `ext-stderr` (console output), `runner` (its warnings). */
  source: string;
}

export interface RuntimeRoute {
  backends: { scheduler: SchedulerBackend; storage: StorageBackend; platformApi: PlatformApiBackend };
  /** How a sandbox worker builds the same backends in its own thread (the runtime's platform's spec). */
  workerIo?: WorkerIoSpec;
  clockOffsetMs(): number;
  onGuestLog(line: GuestLogLine): void;
}

const byInstall = new Map<string, RuntimeRoute>();
/** Components of this process's runtimes by content hash (they are installed from these bytes). */
const bundles = new Map<string, Uint8Array>();
const byRegistry = new Map<string, RuntimeRoute>();
let runner: Runner | undefined;

function routeOf(installId: string): RuntimeRoute {
  const r = byInstall.get(installId);
  if (!r) throw new Error(`install ${installId} belongs to no open test runtime (closed?)`);
  return r;
}

const GUEST_SOURCES = new Set(['ext', 'ext-stdout', 'ext-stderr']);

/** A logger that hands the guests' lines to the runtime of their extension and drops the rest. */
function routingLogger(fields: LogFields = {}): Logger {
  const emit = (level: GuestLogLine['level']) => (message: string, more?: LogFields) => {
    const all = { ...fields, ...more };
    // The guests' lines, and the runner's warnings about their executions (a denied capability).
    let source = typeof all.source === 'string' ? all.source : '';
    if (!GUEST_SOURCES.has(source)) {
      if (level !== 'warn' && level !== 'error') return;
      source = 'runner';
    }
    const route = typeof all.extension === 'string' ? byRegistry.get(all.extension) : undefined;
    route?.onGuestLog({ level, message, requestId: typeof all.request_id === 'string' ? all.request_id : undefined, source });
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), child: (f) => routingLogger({ ...fields, ...f }) };
}

/** What the runner asks per execution: the spec of the runtime that owns the install (none: the bridge). */
export function workerIoOf(context: { installId?: string }): WorkerIoSpec | undefined {
  return context.installId ? byInstall.get(context.installId)?.workerIo : undefined;
}

/** Created by the first runtime of the process, with its cache folder and configuration. */
export function sharedRunner(cacheDir: string, config: Config): Runner {
  runner ??= createRunner({
    cacheDir,
    logger: routingLogger(),
    components: {
      load: async ({ contentHash }) => bundles.get(`sha256:${contentHashHex(contentHash)}`) ?? null,
    },
    services: {
      scheduler: { call: (installId, request, signal) => routeOf(installId).backends.scheduler.call(installId, request, signal) },
      storage: { call: (installId, request, signal) => routeOf(installId).backends.storage.call(installId, request, signal) },
      platformApi: { call: (api, installId, body, signal) => routeOf(installId).backends.platformApi.call(api, installId, body, signal) },
      // The settings each platform's worker spec carries (runnerServices of the same configuration).
      ...runnerServices(config),
    },
    vault: config.vault,
    clockOffsetMs: (context) => (context.installId ? (byInstall.get(context.installId)?.clockOffsetMs() ?? 0) : 0),
    workerIo: workerIoOf,
  });
  return runner;
}

export function addBundle(component: Uint8Array): void {
  bundles.set(contentHashOf(component), component);
}

export function registerRoute(ids: { installId: string; registryId: string }, route: RuntimeRoute): () => void {
  byInstall.set(ids.installId, route);
  byRegistry.set(ids.registryId, route);
  return () => {
    byInstall.delete(ids.installId);
    byRegistry.delete(ids.registryId);
  };
}
