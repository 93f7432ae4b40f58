/**
 * `alga-runner dev` on a folder with its own build: a package.json "build" script runs (its output
 * shown) and the manifest's `main` is served; `--build` overrides it; `--no-build` serves the
 * prebuilt file; a failing build, a missing or non-component file stop start-up saying why.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestComponent } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCli, startDev } from '../support/dev-process.js';

let db: TestDatabase;
let work: string;
let probe: { wasmPath: string; manifestPath: string };
let env: Record<string, string>;

before(async () => {
  db = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'alga-own-build-'));
  probe = await buildTestComponent('scheduler-probe');
  env = { DATABASE_URL: db.url, ALGA_DATA_DIR: join(work, 'data') };
});
after(async () => {
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

/** A folder whose build copies a prebuilt component to dist/main.wasm and leaves a marker. Its
 * src/index.ts does not compile, so a test passes only if our build was not used. */
function fixture(name: string, o: { script?: string } = {}): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'prebuilt'), { recursive: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  const manifest = JSON.parse(readFileSync(probe.manifestPath, 'utf8'));
  delete manifest.source;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  copyFileSync(probe.wasmPath, join(dir, 'prebuilt', 'probe.wasm'));
  writeFileSync(join(dir, 'src', 'index.ts'), 'export const handler = (;\n');
  writeFileSync(
    join(dir, 'build.mjs'),
    `import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('dist', { recursive: true });
copyFileSync('prebuilt/probe.wasm', 'dist/main.wasm');
writeFileSync('built-by', process.argv[2] ?? 'script');
console.log('fixture build ran (' + (process.argv[2] ?? 'script') + ')');
`,
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, scripts: { build: o.script ?? 'node build.mjs' } }));
  return dir;
}

async function counter(url: string): Promise<number> {
  const res = await fetch(`${url}/api/ext/com.alga.test.scheduler-probe/counter`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { counter: number }).counter;
}

describe('dev: the folder\'s own build', () => {
  test('a package.json build script is run with npm run build, its output shown, main served', async () => {
    const dir = fixture('pkg');
    const dev = await startDev([dir], env);
    try {
      assert.match(dev.output(), /`npm run build`/);
      assert.match(dev.output(), /│ fixture build ran \(script\)/, 'the build\'s own output is shown');
      assert.match(dev.output(), /built by the folder's own build: `npm run build` \(package.json "build" script\), serving dist\/main\.wasm/);
      assert.equal(readFileSync(join(dir, 'built-by'), 'utf8'), 'script');
      assert.equal(await counter(dev.url), 1);
    } finally {
      assert.equal(await dev.stop(), 0);
    }
  });

  test('--build "<command>" overrides the script; --no-build serves the prebuilt file without building', async () => {
    const dir = fixture('override');
    const dev = await startDev([dir, '--build', 'node build.mjs override'], env);
    try {
      assert.match(dev.output(), /│ fixture build ran \(override\)/);
      assert.match(dev.output(), /built by the folder's own build: `node build\.mjs override` \(--build\)/);
      assert.equal(await counter(dev.url), 1);
    } finally {
      assert.equal(await dev.stop(), 0);
    }
    rmSync(join(dir, 'built-by'));
    const prebuilt = await startDev([dir, '--no-build'], env);
    try {
      assert.match(prebuilt.output(), /serving the prebuilt dist\/main\.wasm \(--no-build\)/);
      assert.equal(existsSync(join(dir, 'built-by')), false, '--no-build ran no build');
      assert.ok((await counter(prebuilt.url)) >= 1);
    } finally {
      assert.equal(await prebuilt.stop(), 0);
    }
  });

  test('a failing build, a missing component and a core module stop start-up saying why', async () => {
    const failing = fixture('failing', { script: 'node -e "console.error(\'tsc: src/x.ts(3,1): oops\'); process.exit(3)"' });
    const r = await runCli(['dev', failing, '--port', '0'], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /`npm run build` in .* failed \(exit code 3\)/);
    assert.match(r.stderr, /tsc: src\/x\.ts\(3,1\): oops/);

    const missing = fixture('missing');
    const m = await runCli(['dev', missing, '--no-build', '--port', '0'], env);
    assert.equal(m.code, 1, m.stderr);
    assert.match(m.stderr, /component missing: .*dist\/main\.wasm \(manifest\.json "main": "dist\/main\.wasm"\) does not exist \(--no-build/);

    const core = fixture('core');
    mkdirSync(join(core, 'dist'));
    writeFileSync(join(core, 'dist', 'main.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const c = await runCli(['dev', core, '--no-build', '--port', '0'], env);
    assert.equal(c.code, 1, c.stderr);
    assert.match(c.stderr, /is a core WebAssembly module, not a component/);

    const both = await runCli(['dev', core, '--no-build', '--build', 'make', '--port', '0'], env);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--build and --no-build exclude each other/);
  });
});
