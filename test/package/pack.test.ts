/**
 * The package as a user installs it: `npm pack` of this checkout installed into a new folder (see
 * test/support/packed.ts), then its three entry points used from there — the `alga-runner` bin (no
 * build step: it runs one request on embedded PostgreSQL), the library entry and `./testing` from
 * plain ESM JavaScript and from TypeScript, and `./sdk` from guest TypeScript.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildTestComponent, projectRoot } from '../support/components.js';
import { testServerUrl } from '../support/db.js';
import { packAndInstall, type PackedInstall } from '../support/packed.js';

const run = promisify(execFile);
let packed: PackedInstall;

before(async () => {
  packed = await packAndInstall();
});
after(() => {
  if (packed) rmSync(packed.dir, { recursive: true, force: true });
});

const node = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, args, { cwd: packed.dir, env: { ...process.env, ...env }, maxBuffer: 16 * 2 ** 20 });
const tsc = (project: string) => run(process.execPath, [join(projectRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: packed.dir }).catch((e: { stdout: string }) => {
  throw new Error(`tsc -p ${project} failed:\n${e.stdout}`);
});

test('the tarball ships built JavaScript, type declarations, the WIT and the guest SDK, and no tests or TypeScript sources of the runner', () => {
  const files = new Set(packed.files);
  for (const f of ['bin/alga-runner.js', 'bin/node-support.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/testing/index.js', 'dist/src/testing/index.d.ts', 'dist/src/testing/cluster-reaper.js', 'wit/extension-runner.wit', 'components/sdk/host-bindings.ts', 'components/wit-types/runner.d.ts']) {
    assert.ok(files.has(f), `${f} is not in the tarball`);
  }
  assert.deepEqual(packed.files.filter((f) => f.startsWith('dist/test/') || f.startsWith('src/') || f.endsWith('.map')), []);
});

test('the installed bin runs without a build step: --help, and exec answers a request on embedded PostgreSQL', async () => {
  const bin = join(packed.dir, 'node_modules', '.bin', 'alga-runner');
  const help = await node([bin, '--help']);
  assert.match(help.stdout, /^Usage:/m);
  const sample = await buildTestComponent('scheduler-demo');
  const { stdout } = await node([bin, 'exec', '--component', sample.wasmPath, '--manifest', join(packed.pkgDir, 'components', 'scheduler-demo', 'manifest.json'), 'GET', '/api/status'], {
    DATABASE_URL: '',
    ALGA_DATA_DIR: join(packed.dir, 'data'),
  });
  const envelope = JSON.parse(stdout);
  assert.equal(envelope.status, 200, stdout);
  assert.equal(JSON.parse(Buffer.from(envelope.body_b64, 'base64').toString()).status, 'healthy');
});

test('the library entry imports from plain ESM JavaScript; ./sdk resolves to the guest bindings', async () => {
  writeFileSync(
    join(packed.dir, 'consumer.mjs'),
    `import * as lib from 'alga-node-runner';
const m = lib.readManifest(new URL('./node_modules/alga-node-runner/components/scheduler-demo/manifest.json', import.meta.url).pathname);
const clock = lib.createManualClock('2030-01-01T00:00:00Z');
console.log(JSON.stringify({ name: m.name, now: clock.now().toISOString(), startPlatform: typeof lib.startPlatform, sdk: import.meta.resolve('alga-node-runner/sdk') }));
`,
  );
  const out = JSON.parse((await node(['consumer.mjs'])).stdout);
  assert.deepEqual(out, {
    name: 'com.alga.sample.scheduler-demo',
    now: '2030-01-01T00:00:00.000Z',
    startPlatform: 'function',
    sdk: `file://${join(packed.pkgDir, 'components', 'sdk', 'host-bindings.ts')}`,
  });
});

test('./testing from plain ESM JavaScript: a runtime of the installed package answers a request and the process exits by itself', async () => {
  const sample = await buildTestComponent('scheduler-demo');
  writeFileSync(
    join(packed.dir, 'kit.mjs'),
    `import { createTestRuntime } from 'alga-node-runner/testing';
const rt = await createTestRuntime({ extension: { component: ${JSON.stringify(sample.wasmPath)}, manifest: './node_modules/alga-node-runner/components/scheduler-demo/manifest.json' }, databaseUrl: process.env.KIT_DATABASE_URL });
const res = await rt.request('GET', '/api/status');
console.log(JSON.stringify({ status: res.status, body: await res.json() }));
await rt.close();
`,
  );
  const out = JSON.parse((await node(['kit.mjs'], { KIT_DATABASE_URL: testServerUrl(), ALGA_DATA_DIR: join(packed.dir, 'data') })).stdout);
  assert.equal(out.status, 200);
  assert.equal(out.body.status, 'healthy');
});

test('types: the library entry from TypeScript (NodeNext) and ./sdk from guest TypeScript', async () => {
  // Each file has a line that must be a type error: if the package's types did not resolve (any),
  // the @ts-expect-error would be unused and tsc would fail.
  writeFileSync(
    join(packed.dir, 'consumer.ts'),
    `import { createManualClock, type Platform } from 'alga-node-runner';
import { createTestRuntime, type ScheduledRun } from 'alga-node-runner/testing';
export const now: Date = createManualClock().now();
export type Url = Platform['url'];
export const make = () => createTestRuntime({ extension: './ext', clock: { start: '2030-01-01T00:00:00Z' } });
export const occurrence = (r: ScheduledRun): string => r.occurrence;
// @ts-expect-error now() returns a Date
export const wrong: number = createManualClock().now();
// @ts-expect-error advanceClock resolves with the runs, not a number
export const runs = async (): Promise<number> => (await make()).advanceClock('2030-01-01T01:00:00Z');
`,
  );
  writeFileSync(join(packed.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['consumer.ts'] }));
  writeFileSync(
    join(packed.dir, 'guest.ts'),
    `import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { Router, json, scheduler } from 'alga-node-runner/sdk';
const app = new Router().get('/api/n', () => {
  const r = scheduler.list();
  return r.ok ? json(200, { n: r.value.length }) : json(500, { error: r.error });
});
export function handler(request: ExecuteRequest): ExecuteResponse {
  return app.handle(request);
}
// @ts-expect-error json() answers an ExecuteResponse
export const wrong: string = json(200, {});
`,
  );
  writeFileSync(join(packed.dir, 'tsconfig.guest.json'), JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022'], types: [], strict: true, noEmit: true }, files: ['guest.ts'] }));
  assert.ok(existsSync(join(packed.pkgDir, 'dist', 'src', 'index.d.ts')));
  await tsc('tsconfig.json');
  await tsc('tsconfig.guest.json');
});
