#!/usr/bin/env node
// Runs every test (node:test) against a real PostgreSQL: DATABASE_URL if set, else an embedded
// cluster started here in a temporary folder and removed afterwards. Each test file creates its
// own databases on that server (test/support/db.ts), so files run in parallel without sharing rows.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireSupportedNode } from '../bin/node-support.js';
requireSupportedNode();

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { startEmbeddedPostgres } = await import(join(root, 'dist/src/server/db/embedded.js'));

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
// The components' own tests (plain JavaScript on the test kit, as an extension author writes them).
const componentTests = readdirSync(join(root, 'components'))
  .map((c) => join(root, 'components', c, 'test'))
  .filter((d) => existsSync(d))
  .flatMap((d) => readdirSync(d).filter((n) => n.endsWith('.test.mjs')).map((n) => join(d, n)));
let files = [...findTests(join(root, 'dist/test')), ...componentTests].sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
// node --test given no files searches the working folder: a filter that matches nothing would run everything.
if (filters.length && !files.length) {
  process.stderr.write(`no test file matches ${filters.join(' ')} (words match paths under dist/test; run npm run build first)\n`);
  process.exit(2);
}

let pg;
let dataDir;
let url = process.env.DATABASE_URL;
if (!url) {
  dataDir = mkdtempSync(join(tmpdir(), 'alga-test-pg-'));
  process.stdout.write('starting embedded PostgreSQL for the tests…\n');
  pg = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  url = pg.url;
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  env: { ...process.env, ALGA_TEST_DATABASE_URL: url },
});
const code = await new Promise((res) => child.on('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
if (pg) {
  await pg.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
