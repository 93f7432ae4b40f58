/**
 * `alga-runner conformance`: runs the WIT conformance kit (src/conformance) against our runner —
 * in-process by default, or as its own process (`--shape split`) — or against any runner's
 * `/v1/execute` (`--target URL`). In every mode the kit hosts the platform side itself (a temporary
 * PostgreSQL unless DATABASE_URL is set, the registry holding the conformance components, the
 * scheduler callback API): a `--target` runner must call it back (see docs/conformance.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runConformance } from '../conformance/kit.js';
import { formatJson, formatTable } from '../conformance/report.js';
import { kitPlatformOptions, UI_PROXY_PATH } from '../conformance/stand-ins.js';
import { findWorlds } from '../conformance/worlds.js';
import type { Config } from '../config.js';
import { startPlatform, type Platform } from '../platform.js';
import { createHttpRunnerClient } from '../server/http/runner-client.js';
import type { ExecuteClient } from '../shared/execute-envelope.js';
import { createLogger, silentLogger } from '../shared/logger.js';
import { UsageError } from './main.js';

export async function runConformanceCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      production: { type: 'boolean', default: false },
      shape: { type: 'string', default: 'in-process' },
      world: { type: 'string' },
      filter: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'callback-port': { type: 'string', default: '4100' },
      'callback-host': { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  const shape = values.shape;
  if (shape !== 'in-process' && shape !== 'split') throw new UsageError(`--shape must be in-process or split (got "${shape}")`);
  if (values.target && shape === 'split') throw new UsageError('--shape split starts our runner itself; do not combine it with --target');
  if (values.production && !values.target) throw new UsageError('--production needs --target');
  let worlds;
  try {
    worlds = findWorlds(values.world?.split(',').map((s) => s.trim()).filter(Boolean));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`invalid --concurrency ${values.concurrency}`);

  let target = values.target?.replace(/\/+$/, '');
  let callbackPort: number | undefined;
  let token: string | undefined;
  if (target) {
    try {
      new URL(target);
    } catch {
      throw new UsageError(`--target is not a URL: ${target}`);
    }
    callbackPort = Number(values['callback-port']);
    if (!Number.isInteger(callbackPort) || callbackPort < 1 || callbackPort > 65535) throw new UsageError(`invalid --callback-port ${values['callback-port']}`);
    token = values.token ?? config.runnerToken;
    if (!token) throw new UsageError('--target needs the runner token the target uses: --token or RUNNER_SERVICE_TOKEN / RUNNER_STORAGE_API_TOKEN');
    const health = await fetch(`${target}/healthz`).catch((e: Error) => e);
    if (health instanceof Error) throw new Error(`the target runner is not reachable at ${target}/healthz: ${health.message}`);
  }

  const say = (m: string) => process.stderr.write(`conformance: ${m}\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'alga-conformance-'));
  let platform: Platform | undefined;
  let client: (ExecuteClient & { close?: () => Promise<void> }) | undefined;
  try {
    // The kit's platform data and stand-ins; our runner's UI proxy and Vault point at the stand-ins
    // (a --target runner is pointed there by whoever started it).
    const kit = await kitPlatformOptions(config, { dir: dataDir, port: target ? callbackPort : undefined });
    platform = await startPlatform({
      ...kit,
      config: target ? config : kit.config,
      dataDir,
      cacheDir: join(config.dataDir, 'cache'),
      shape: shape as 'in-process' | 'split',
      host: target ? values['callback-host'] : undefined,
      runnerToken: token,
      logger: values.verbose ? createLogger({ level: 'info', format: 'pretty' }) : silentLogger,
      onProgress: values.verbose ? say : undefined,
    });
    if (target) {
      say(`the kit serves the registry and internal API callbacks at ${platform.url} (token from --token / RUNNER_SERVICE_TOKEN), its UI proxy stand-in at ${platform.url}${UI_PROXY_PATH}`);
      client = createHttpRunnerClient({ baseUrl: target, apiKey: config.runnerApiKey });
    } else {
      client = platform.runner;
      target = shape === 'split' ? `our runner as its own process (${platform.runnerUrl})` : 'our runner, in-process';
    }
    const report = await runConformance({
      platform,
      client,
      target,
      worlds,
      filter: values.filter,
      concurrency,
      productionTarget: values.production,
      onProgress: say,
    });
    process.stdout.write(values.json ? formatJson(report) : formatTable(report));
    return report.summary.fail > 0 ? 1 : 0;
  } finally {
    if (values.target) await client?.close?.().catch(() => {});
    await platform?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}
