/** A runner over the real probe component (built from source), and helpers to call its routes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe } from 'node:test';
import { jspiAvailable, type SandboxPath } from '../../../src/config.js';
import type { WorkerIoSpec } from '../../../src/host/ports.js';
import type { FixtureIoOptions } from './fixtures/worker-io.js';
import { createRunner, type Runner, type RunnerOptions } from '../../../src/host/runner.js';
import { sha256Hex } from '../../../src/shared/content-hash.js';
import type { ExecuteResponseBody } from '../../../src/shared/execute-envelope.js';
import { createLogger, type Logger } from '../../../src/shared/logger.js';
import { buildTestComponent, projectRoot } from '../../support/components.js';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface SandboxHarness {
  runner: Runner;
  contentHash: string;
  /** Every line the runner logged, parsed. */
  logs: LogLine[];
  call(method: string, path: string, o?: { body?: unknown; tenant?: string; installId?: string; limits?: { timeout_ms?: number; memory_mb?: number }; providers?: string[]; signal?: AbortSignal }): Promise<ExecuteResponseBody>;
}

export const json = (r: ExecuteResponseBody): any => JSON.parse(Buffer.from(r.body_b64 ?? '', 'base64').toString('utf8'));

let probeBytes: Promise<Uint8Array> | undefined;
export function probeComponent(): Promise<Uint8Array> {
  probeBytes ??= buildTestComponent('scheduler-probe').then((b) => new Uint8Array(readFileSync(b.wasmPath)));
  return probeBytes;
}

/** Every path the runner can take on this Node: the bridge always, JSPI where the Node has it. */
export const SANDBOX_PATHS: readonly SandboxPath[] = jspiAvailable() ? ['jspi', 'bridge'] : ['bridge'];

let activePath: SandboxPath | undefined;

/** Registers `suite` once per path of this Node (SANDBOX_PATHS); the harnesses its tests start take
 * that path. */
export function forEachSandboxPath(suite: (path: SandboxPath) => void): void {
  for (const path of SANDBOX_PATHS) {
    describe(`sandbox path ${path}`, () => {
      before(() => {
        activePath = path;
      });
      suite(path);
    });
  }
}

/** A spec of the test factory (fixtures/worker-io.ts). */
export function fixtureIo(options: FixtureIoOptions): WorkerIoSpec {
  return { module: new URL('./fixtures/worker-io.js', import.meta.url).href, options };
}

/**
 * A runner on the active path (forEachSandboxPath; else the runner's default). On the JSPI path a
 * runner given no `services` runs the I/O imports in its workers on no services (as `services: {}`
 * on the main thread), so those tests exercise that path; one given `services` objects keeps them on
 * the main thread (the bridge), unless it gives its own `workerIo`.
 */
export async function startSandboxHarness(opts: Partial<RunnerOptions> = {}): Promise<SandboxHarness> {
  const sandboxPath = opts.sandboxPath ?? activePath;
  const ioInWorker = sandboxPath === 'jspi' && !opts.services && !opts.workerIo;
  if (ioInWorker) opts = { ...opts, workerIo: () => fixtureIo({ none: true }) };
  const bytes = await probeComponent();
  const contentHash = `sha256:${sha256Hex(bytes)}`;
  const logs: LogLine[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogLine) });
  const runner = createRunner({
    cacheDir: join(projectRoot(), '.alga', 'cache'),
    components: { load: async ({ contentHash: h }) => (h === contentHash ? bytes : null) },
    logger,
    ...opts,
    ...(sandboxPath ? { sandboxPath } : {}),
  });
  return {
    runner,
    contentHash,
    logs,
    async call(method, path, o = {}) {
      const tenant = o.tenant ?? 'tenant-1';
      const out = await runner.execute(
        { 'x-alga-tenant': tenant, 'x-alga-extension': 'probe' },
        {
          context: { tenant_id: tenant, extension_id: 'probe', install_id: o.installId ?? '22222222-2222-4222-8222-222222222222', content_hash: contentHash },
          http: { method, path, body_b64: o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)).toString('base64') },
          limits: o.limits,
          providers: o.providers ?? [],
        },
        o.signal,
      );
      // The path asked for is the path taken: no silent fallback to the sync glue, and on the JSPI
      // path with the I/O in the worker the main thread answers no host call (warm-ups included).
      if (sandboxPath === 'jspi') assert.equal(runner.stats().syncGlue, 0, 'the JSPI path fell back to the sync glue');
      if (ioInWorker) assert.equal(runner.stats().bridgedHostCalls, 0, 'a host call reached the main thread on the JSPI path');
      return out;
    },
  };
}
