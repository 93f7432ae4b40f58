/** A runner over the real probe component (built from source), and helpers to call its routes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

export async function startSandboxHarness(opts: Partial<RunnerOptions> = {}): Promise<SandboxHarness> {
  const bytes = await probeComponent();
  const contentHash = `sha256:${sha256Hex(bytes)}`;
  const logs: LogLine[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogLine) });
  const runner = createRunner({
    cacheDir: join(projectRoot(), '.alga', 'cache'),
    components: { load: async ({ contentHash: h }) => (h === contentHash ? bytes : null) },
    logger,
    ...opts,
  });
  return {
    runner,
    contentHash,
    logs,
    call(method, path, o = {}) {
      const tenant = o.tenant ?? 'tenant-1';
      return runner.execute(
        { 'x-alga-tenant': tenant, 'x-alga-extension': 'probe' },
        {
          context: { tenant_id: tenant, extension_id: 'probe', install_id: o.installId ?? '22222222-2222-4222-8222-222222222222', content_hash: contentHash },
          http: { method, path, body_b64: o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)).toString('base64') },
          limits: o.limits,
          providers: o.providers ?? [],
        },
        o.signal,
      );
    },
  };
}
