import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { buildToMain } from '../dev/build-to-main.js';
import { UsageError } from './main.js';

const say = (msg: string) => process.stderr.write(`› ${msg}\n`);

/** `alga-runner build <dir>`: the folder's component, built to the manifest's `main`. */
export async function runBuild(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  const dir = positionals[0];
  if (!dir) throw new UsageError('build needs an extension folder (one holding manifest.json)');
  if (positionals.length > 1) throw new UsageError(`build takes one folder (got ${positionals.join(' ')})`);
  const dataDir = values['data-dir'] ?? config.dataDir;
  const t0 = performance.now();
  const out = await buildToMain(dir, { cacheDir: join(dataDir, 'cache'), onProgress: say });
  const rel = relative(process.cwd(), out.outPath) || out.outPath;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(`✔ ${out.manifest.name}@${out.manifest.version}: wrote ${rel} (${(out.bytes / 1048576).toFixed(1)} MiB${out.fromCache ? ', from the build cache' : ''}, ${secs} s)\n`);
  return 0;
}
