/** `alga-runner`: run Alga extensions locally. */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, VARIABLES, type Config } from '../config.js';
import { runBuild } from './build.js';
import { runNew } from './new.js';
import { runConformanceCommand } from './conformance.js';
import { runDev } from './dev.js';
import { runExec } from './exec.js';
import { runSecrets } from './secrets.js';
import { runServe } from './serve.js';
import { runSchedules } from './schedules.js';
import { runInvoices } from './invoices.js';

export const USAGE = `alga-runner — run Alga PSA extensions (alga:extension/runner components) locally

Usage:
  alga-runner dev <extension-dir> [--port N] [--tenant ID] [--data-dir DIR] [--split]
                  [--disable-missing-schedules] [--platform-data F.json]
                  [--log-format pretty|json] [--quiet] [--build CMD | --no-build] [--no-watch] [--secrets-file F.json]
      Start PostgreSQL (embedded unless DATABASE_URL is set), build and install the extension,
      and serve its endpoints at http://127.0.0.1:<port>/api/ext/<extension>/<path>.
      Build: the folder's package.json "build" script (npm run build) and the manifest's main;
      else alga-runner's build of src/index.ts. --build runs CMD instead; --no-build serves main.
      Watches the folder and swaps in each new build (installs, schedules and data stay);
      a failing build keeps the last good one. --no-watch serves the first build only.
      Prints one line per execution with the guest's log lines under it; --quiet: warnings and
      errors only. A new x-alga-tenant is installed on its first request.
      --split runs the runner as a second process talking HTTP both ways, as in production.
      A new manifest version moves existing schedules to the new endpoints by (METHOD, path);
      --disable-missing-schedules disables those whose endpoint is gone instead of refusing.
      --platform-data F.json: the clients and services every tenant sees (docs/platform-data.md).
      --secrets-file F.json ({"KEY": "value", …}): the install's secrets, written at start and
      again whenever the file changes.

  alga-runner new <dir> [--template basic|scheduler] [--name com.acme.my-ext] [--publisher com.acme]
                  [--runner-version X.Y.Z] [--force]
      Write a new extension folder: manifest.json, src/index.ts on alga-node-runner/sdk, package.json
      (build, test, dev scripts; depends on this installation by file: path, or on --runner-version),
      tsconfig.json, test/extension.test.mjs on alga-node-runner/testing, .gitignore, README.md.
      basic: one JSON endpoint reading the context and user; scheduler: setup, a scheduled run
      recorded in storage, status. Refuses a non-empty folder unless --force.

  alga-runner build <extension-dir> [--data-dir DIR]
      Build the folder's guest sources (manifest "source", else src/index.ts) with componentize-js —
      the build dev uses when the folder has no build of its own — and write the component to the
      manifest's "main", the file to deploy. A bundle error names file:line:column.

  alga-runner exec --component <file.wasm> --manifest <manifest.json> [--grant cap,cap] [--tenant ID]
                   [--data-dir DIR] [--platform-data F.json] <METHOD> <PATH> [--body <json|@file>]
                   [--secret KEY=VALUE]... [--secrets-file F.json]
      Run one request against a component and print production's /v1/execute response envelope.
      Exits 1 when the envelope carries an error. --secret and --secrets-file add to (or override)
      the install's stored secrets for this one execution.

  alga-runner secrets set <extension> KEY=VALUE... [--file F.json] [--tenant ID] [--data-dir DIR]
  alga-runner secrets list <extension> [--tenant ID] [--data-dir DIR]
  alga-runner secrets unset <extension> KEY... [--tenant ID] [--data-dir DIR]
      An install's secrets in the data folder (as exec opens it; tenant "local" by default), stored as
      production stores them: set merges, unset removes keys, list prints the keys (never the values).
      Every execution of the install (gateway, schedules, run-now, exec) carries them.

  alga-runner serve [--role all|runner|server] [--port N] [--data-dir DIR] [--platform-data F.json]
      runner: POST /v1/execute and GET /healthz (production's runner contract); calls the server back
              at STORAGE_API_BASE_URL (or REGISTRY_BASE_URL) with RUNNER_STORAGE_API_TOKEN (or RUNNER_SERVICE_TOKEN).
      server: gateway, POST /api/internal/ext-{scheduler,storage,…}/install/{id}, /metrics; executes through
              RUNNER_BASE_URL when set. all: both in one process.

  alga-runner invoices list [--tenant ID] [--data-dir DIR]
      The draft manual invoices extensions wrote (invoicing.create-manual-invoice), newest first, as
      JSON, read from the data folder (also GET /api/admin/invoices?tenant=ID on a running server).

  alga-runner conformance [--target <runner-url> [--production] [--callback-port N] [--token T]] [--shape in-process|split]
                          [--world ID,...] [--filter TEXT]... [--json]
      Run the WIT conformance kit (every function of every world version, under each condition of
      production's contract) against our runner (in-process; --shape split: as its own process) or the
      runner at --target, which must call the kit back at 127.0.0.1:<callback-port> (docs/conformance.md).
      Prints pass / FAIL / DIFFERS AS DOCUMENTED per world, function and case; exits 1 on any failure.

  alga-runner schedules list [--extension E] [--tenant T] [--json] [--url http://127.0.0.1:3000] [--token T]
  alga-runner schedules <runs|next|run-now> <scheduleId> [--url …] [--token T] [--limit N] [--count N]
                        [--tenant ID] [--at <ISO instant>]
      Ask a running server (dev or serve): every schedule with its cron in words, timezone, next 3
      occurrences in that timezone, enabled and last run; a schedule's run history; its next
      occurrences; or run it now (even when disabled; 5 per minute per tenant; --at: the scheduled
      time the run is recorded with and the endpoint sees). docs/scheduling.md.

Environment (validated at start-up; a bad value stops the command; README "Configuration"):
${Object.entries(VARIABLES).map(([name, v]) => `  ${name}: ${v.doc.replace(/`/g, '')}`).join('\n')}
`;

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The environment is read once, here, before any command starts (a bad value stops it).
  const config = (): Config => loadConfig();
  try {
    switch (command) {
      case 'dev':
        return await runDev(rest, config());
      case 'exec':
        return await runExec(rest, config());
      case 'build':
        return await runBuild(rest, config());
      case 'new':
        return await runNew(rest);
      case 'secrets':
        return await runSecrets(rest, config());
      case 'serve':
        return await runServe(rest, config());
      case 'schedules':
        return await runSchedules(rest, config());
      case 'invoices':
        return await runInvoices(rest);
      case 'conformance':
        return await runConformanceCommand(rest, config());
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
    if (err instanceof ConfigError) {
      process.stderr.write(`alga-runner: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`alga-runner: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`alga-runner: ${(err as Error).message}\n`);
    return 1;
  }
}

export { parseArgs };
