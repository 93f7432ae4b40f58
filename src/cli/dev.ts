import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { createDevConsole } from '../dev/console.js';
import { dashboardRoutes } from '../dev/dashboard-api.js';
import { ExecutionLog, recordingLogger } from '../dev/execution-log.js';
import { RequestLog } from '../dev/request-log.js';
import type { Platform } from '../platform.js';
import { startPlatform } from '../platform.js';
import { startDevSession } from '../dev/session.js';
import type { BuildChoice } from '../dev/extension-dir.js';
import { platformDataOption } from './platform-data-option.js';
import { syncSecretsFile } from './secrets-file.js';
import { UsageError } from './main.js';

const say = (msg: string) => process.stderr.write(`› ${msg}\n`);

/** `alga-runner dev <dir>`: the extension served locally until Ctrl-C. */
export async function runDev(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-format': { type: 'string', default: 'pretty' },
      split: { type: 'boolean', default: false },
      'disable-missing-schedules': { type: 'boolean', default: false },
      build: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'platform-data': { type: 'string' },
      'secrets-file': { type: 'string' },
      'no-watch': { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new UsageError('dev needs an extension folder (one holding manifest.json)');
  const port = values.port !== undefined ? Number(values.port) : (config.port ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${values.port}`);
  const format = values['log-format'] === 'json' ? 'json' : 'pretty';
  if (values.build !== undefined && values['no-build']) throw new UsageError('--build and --no-build exclude each other');
  if (values.build !== undefined && !values.build.trim()) throw new UsageError('--build needs a command, e.g. --build "npm run build"');
  const build: BuildChoice = values['no-build'] ? { kind: 'none' } : values.build !== undefined ? { kind: 'command', command: values.build } : { kind: 'auto' };

  const quiet = values.quiet;
  const executions = new ExecutionLog();
  const requests = new RequestLog();
  const printer = createDevConsole({
    format,
    quiet,
    color: format === 'pretty' && process.stdout.isTTY === true,
    write: format === 'json' ? (l) => process.stderr.write(l + '\n') : (l) => process.stdout.write(l + '\n'),
  });
  const logger = recordingLogger(printer, executions);
  let platform: Platform | undefined;
  try {
    platform = await startPlatform({
      config,
      port,
      tenantId: values.tenant,
      dataDir: values['data-dir'],
      logger,
      onProgress: quiet ? () => {} : say,
      shape: values.split ? 'split' : 'in-process',
      platformData: platformDataOption(values['platform-data']),
      installOnDemand: true,
      onGatewayRequest: (r) => requests.record(r),
      notReadyUntilMarked: 'installing the extension',
      routes: dashboardRoutes({ platform: () => platform, executions, requests, token: config.adminToken, production: config.production }),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${port} is in use (another alga-runner dev?): stop that process, or pick another port with --port N`);
    }
    throw e;
  }
  const running = platform;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping (PostgreSQL is shut down cleanly; data is kept)');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  try {
    const session = await startDevSession(running, {
      dir,
      build,
      disableMissingSchedules: values['disable-missing-schedules'],
      watch: !values['no-watch'],
      say: quiet ? () => {} : say,
      print: (text) => process.stdout.write(text + '\n'),
    });
    if (values['secrets-file']) await syncSecretsFile(running.pool, session.installed, values['secrets-file'], say);
    running.markReady();
  } catch (err) {
    await running.stop();
    throw err;
  }
  return new Promise<number>(() => {}); // serve until a signal stops the process
}
