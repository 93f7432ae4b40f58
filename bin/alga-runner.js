#!/usr/bin/env node
// The `alga-runner` command. An installed package ships dist/ built; a checkout builds it with
// `npm install` (the `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import { requireSupportedNode } from './node-support.js';
requireSupportedNode();
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('alga-runner is not built yet: run `npm install` (or `npm run build`) in the alga-node-runner folder.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
// Commands close what they open before returning; exit with their code rather than wait for
// stray handles (a keep-alive socket, an idle worker).
process.exit(await main(process.argv.slice(2)));
