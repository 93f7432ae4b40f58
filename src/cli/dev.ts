import { parseArgs } from 'node:util';
import { createLogger } from '../shared/logger.js';
import { startPlatform } from '../platform.js';
import { UsageError } from './main.js';

const say = (msg: string) => process.stderr.write(`› ${msg}\n`);

/** `alga-runner dev <dir>`: the extension served locally until Ctrl-C. */
export async function runDev(argv: string[]): Promise<number> {
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
    },
  });
  const dir = positionals[0];
  if (!dir) throw new UsageError('dev needs an extension folder (one holding manifest.json)');
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port ${values.port ?? process.env.PORT}`);
  const format = values['log-format'] === 'json' ? 'json' : 'pretty';

  const platform = await startPlatform({
    port,
    tenantId: values.tenant,
    dataDir: values['data-dir'],
    logger: createLogger({ level: 'info', format }),
    onProgress: say,
    shape: values.split ? 'split' : 'in-process',
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping (PostgreSQL is shut down cleanly; data is kept)');
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  try {
    const installed = await platform.installDir(dir, { disableMissingSchedules: values['disable-missing-schedules'] });
    const name = installed.extension.manifest.name;
    const base = `${platform.url}/api/ext/${name}`;
    const lines = [
      '',
      `✔ ${name}@${installed.extension.manifest.version} is running for tenant "${installed.tenantId}"`,
      `  install ${installed.installId}, component ${installed.contentHash.slice(0, 19)}…`,
      `  ${base}/…  (also under /api/ext/${installed.registryId}/…)`,
      '',
      '  Try:',
      ...installed.extension.manifest.api.endpoints.map((e) => {
        const path = e.path.replace(/:[^/]+|\{[^}]+\}/g, '<id>');
        const data = e.method === 'GET' || e.method === 'DELETE' ? '' : ` -H 'content-type: application/json' -d '{}'`;
        return `    curl -s -X ${e.method} ${base}${path}${data}`;
      }),
      '',
      `  Schedules fire while this runs; their runs: npx alga-runner schedules runs <id> --url ${platform.url}`,
      `  Metrics: ${platform.url}/metrics   Stop: Ctrl-C`,
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    await platform.stop();
    throw err;
  }
  return new Promise<number>(() => {}); // serve until a signal stops the process
}
