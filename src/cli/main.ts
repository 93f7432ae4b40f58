/** `alga-runner`: run Alga extensions locally. */
import { parseArgs } from 'node:util';
import { runDev } from './dev.js';
import { runExec } from './exec.js';

export const USAGE = `alga-runner — run Alga PSA extensions (alga:extension/runner components) locally

Usage:
  alga-runner dev <extension-dir> [--port N] [--tenant ID] [--data-dir DIR] [--log-format pretty|json]
      Start PostgreSQL (embedded unless DATABASE_URL is set), build and install the extension,
      and serve its endpoints at http://127.0.0.1:<port>/api/ext/<extension>/<path>.

  alga-runner exec --component <file.wasm> --manifest <manifest.json> [--grant cap,cap] [--tenant ID]
                   [--data-dir DIR] <METHOD> <PATH> [--body <json|@file>]
      Run one request against a component and print production's /v1/execute response envelope.
      Exits 1 when the envelope carries an error.

Environment: PORT, DATABASE_URL, ALGA_DATA_DIR (default ./.alga), EXT_EGRESS_ALLOWLIST.
`;

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dev':
        return await runDev(rest);
      case 'exec':
        return await runExec(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`alga-runner: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`alga-runner: ${(err as Error).message}\n`);
    return 1;
  }
}

export { parseArgs };
