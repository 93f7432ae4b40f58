import { parseArgs } from 'node:util';
import { requireProductionSecrets, type Config } from '../config.js';
import { runnerTokenProblem } from '../shared/auth.js';
import { createLogger } from '../shared/logger.js';
import { startPlatform } from '../platform.js';
import { platformDataOption } from './platform-data-option.js';
import { startRunnerService } from '../runner-service.js';
import { UsageError } from './main.js';

/**
 * `alga-runner serve --role runner|server|all`: the long-running services.
 *   runner  POST /v1/execute, GET /healthz; calls the server back (STORAGE_API_BASE_URL, RUNNER_SERVICE_TOKEN)
 *   server  gateway, internal API, metrics; executes through RUNNER_BASE_URL, or in-process without it
 *   all     both in one process (the server also answers /v1/execute)
 */
export async function runServe(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string', default: 'all' },
      port: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-format': { type: 'string', default: 'json' },
      'platform-data': { type: 'string' },
    },
  });
  const role = values.role! as 'runner' | 'server' | 'all';
  if (!['runner', 'server', 'all'].includes(role)) throw new UsageError(`--role must be runner, server or all (got "${role}")`);
  requireProductionSecrets(config, role);
  const port = values.port !== undefined ? Number(values.port) : (config.port ?? (role === 'runner' ? 8080 : 3000));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${values.port}`);
  const logger = createLogger({ level: 'info', format: values['log-format'] === 'pretty' ? 'pretty' : 'json' });
  const dataDir = values['data-dir'] ?? config.dataDir;
  if (role === 'runner' && values['platform-data'] !== undefined) throw new UsageError('--platform-data belongs to the server (--role server or all): the runner asks the server');
  const platformData = platformDataOption(values['platform-data']);

  let stop: () => Promise<void>;
  if (role === 'runner') {
    const svc = await startRunnerService({ config, port, dataDir, logger });
    logger.info('runner listening', { url: svc.url });
    stop = svc.stop;
  } else {
    const problem = runnerTokenProblem(config.runnerToken, config.production);
    if (problem) logger.warn(`internal API refuses every call: ${problem}`);
    // Role all's own gateway and scheduled runs call the runner in-process: /v1/execute on the public
    // port is for other callers, and in production only behind a key.
    const serveExecute = role === 'all' && (config.runnerApiKey !== undefined || !config.production);
    if (role === 'all' && !serveExecute) logger.info('/v1/execute is not served: NODE_ENV=production and no ALGA_RUNNER_API_KEY');
    if (serveExecute && !config.runnerApiKey) logger.warn('/v1/execute answers anyone who reaches this port: set ALGA_RUNNER_API_KEY to require a key');
    const platform = await startPlatform({
      config,
      port,
      dataDir,
      tenantId: values.tenant,
      runnerUrl: role === 'server' ? config.runnerBaseUrl : undefined,
      serveExecute,
      platformData,
      logger,
      onProgress: (m) => logger.info(m),
    });
    logger.info('server listening', { url: platform.url, runner: platform.runnerUrl ?? 'in-process' });
    stop = platform.stop;
  }
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return new Promise<number>(() => {});
}
