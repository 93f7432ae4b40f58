/**
 * `alga-runner secrets set|list|unset <extension> …`: an install's secrets in the data folder, as
 * `exec` opens it (default tenant `local`), stored as production stores them
 * (`tenant_extension_install_secrets`, docs/production-contract.md#secrets). Values are never printed.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { startPlatform } from '../platform.js';
import { findInstall } from '../server/registry/registry.js';
import { listInstallSecretKeys, SecretsInputError, writeInstallSecrets } from '../server/secrets/install-secrets.js';
import { createLogger } from '../shared/logger.js';
import { UsageError } from './main.js';
import { parseSecretArgs, readSecretsFile } from './secrets-file.js';

export async function runSecrets(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string', default: 'local' },
      'data-dir': { type: 'string' },
      file: { type: 'string' },
    },
  });
  const [action, extension, ...rest] = positionals;
  if (action !== 'set' && action !== 'list' && action !== 'unset') throw new UsageError('secrets needs set, list or unset');
  if (!extension) throw new UsageError(`secrets ${action} needs the extension (its manifest name or registry id)`);
  let changes: Record<string, string | null> = {};
  if (action === 'set') {
    changes = { ...(values.file ? readSecretsFile(values.file) : {}), ...parseSecretArgs(rest) };
    if (!Object.keys(changes).length) throw new UsageError('secrets set needs KEY=VALUE… or --file F.json');
  } else if (action === 'unset') {
    if (!rest.length) throw new UsageError('secrets unset needs the keys to remove');
    changes = Object.fromEntries(rest.map((k) => [k, null]));
  } else if (rest.length) {
    throw new UsageError('secrets list takes no keys');
  }

  const tenant = values.tenant!;
  const platform = await startPlatform({ config, dataDir: values['data-dir'], tenantId: tenant, logger: createLogger({ level: 'warn', format: 'pretty' }) });
  try {
    const install = await findInstall(platform.pool, tenant, extension);
    if (!install) {
      process.stderr.write(`alga-runner: "${extension}" is not installed for tenant "${tenant}" in ${platform.dataDir} (run exec or dev with it first)\n`);
      return 1;
    }
    let keys: string[];
    try {
      keys = action === 'list' ? await listInstallSecretKeys(platform.pool, install.installId) : await writeInstallSecrets(platform.pool, install, changes);
    } catch (e) {
      if (e instanceof SecretsInputError) {
        process.stderr.write(`alga-runner: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    if (action === 'list') {
      for (const k of keys) process.stdout.write(`${k}\n`);
    } else {
      const verb = action === 'set' ? 'set' : 'removed';
      process.stdout.write(`${verb} ${Object.keys(changes).sort().join(', ')} for ${install.extensionName} (tenant ${tenant}); stored keys: ${keys.join(', ') || '(none)'}\n`);
    }
    return 0;
  } finally {
    await platform.stop();
  }
}
