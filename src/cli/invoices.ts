import { parseArgs } from 'node:util';
import { createLogger } from '../shared/logger.js';
import { startPlatform } from '../platform.js';
import { listInvoices } from '../server/invoicing/manual-invoices.js';
import { UsageError } from './main.js';

/**
 * `alga-runner invoices list [--tenant ID] [--data-dir DIR]`: the draft manual invoices extensions
 * wrote, read from the data folder directly (as `exec` runs), newest first, as JSON on stdout.
 */
export async function runInvoices(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const [action] = positionals;
  if (action !== 'list') throw new UsageError(action ? `unknown invoices action "${action}" (try: invoices list)` : 'invoices needs an action: list');
  const platform = await startPlatform({ dataDir: values['data-dir'], logger: createLogger({ level: 'warn', format: 'pretty' }), execution: { enabled: false } });
  try {
    const invoices = await listInvoices(platform.pool, { tenantId: values.tenant?.trim() || undefined });
    process.stdout.write(JSON.stringify({ invoices }, null, 2) + '\n');
    return 0;
  } finally {
    await platform.stop();
  }
}
