import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { newExtension, NewExtensionError } from '../scaffold/new-extension.js';
import { TEMPLATES, type TemplateName } from '../scaffold/templates.js';
import { UsageError } from './main.js';

/** `alga-runner new <dir>`: a new extension folder that builds, runs and has a passing test. */
export async function runNew(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      template: { type: 'string', default: 'basic' },
      name: { type: 'string' },
      publisher: { type: 'string' },
      'runner-version': { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new UsageError('new needs a folder for the extension, e.g. alga-runner new nightly-sync');
  if (positionals.length > 1) throw new UsageError(`new takes one folder (got ${positionals.join(' ')})`);
  if (!TEMPLATES.includes(values.template as TemplateName)) throw new UsageError(`unknown --template "${values.template}" (templates: ${TEMPLATES.join(', ')})`);
  let out;
  try {
    out = newExtension(dir, {
      template: values.template as TemplateName,
      name: values.name,
      publisher: values.publisher,
      runnerVersion: values['runner-version'],
      force: values.force,
    });
  } catch (e) {
    if (e instanceof NewExtensionError) throw new UsageError(e.message);
    throw e;
  }
  const shown = relative(process.cwd(), out.dir) || '.';
  process.stdout.write(
    [
      `✔ ${out.name} (template ${out.template}) in ${shown}/`,
      ...out.files.map((f) => `  wrote ${f}`),
      `  alga-node-runner: ${out.runnerDependency}`,
      '',
      'Next:',
      `  cd ${shown}`,
      '  npm install',
      '  npm test        # its test, on the real runtime',
      '  npm run dev     # serve it locally',
      '  npm run build   # dist/main.wasm, the component to deploy',
      '',
    ].join('\n'),
  );
  return 0;
}
