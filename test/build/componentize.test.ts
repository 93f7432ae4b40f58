import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ComponentBuildError, buildComponent, planBuild } from '../../src/build/componentize.js';
import { contentHashOf as componentHash } from '../../src/shared/content-hash.js';
import { projectRoot } from '../support/components.js';

const root = projectRoot();
const witDir = join(root, 'wit');
const probeEntry = join(root, 'components', 'scheduler-probe', 'src', 'index.ts');
let work: string;
let cacheDir: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'alga-componentize-test-'));
  cacheDir = join(work, 'cache');
});
after(() => rmSync(work, { recursive: true, force: true }));

const COMPONENT_MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

test('builds the probe from source into a component; concurrent builders share one build; a second build is a cache hit', async () => {
  const progress: string[] = [];
  const [a, b] = await Promise.all([
    buildComponent({ entry: probeEntry, witDir, cacheDir, onProgress: (m) => progress.push(m) }),
    buildComponent({ entry: probeEntry, witDir, cacheDir }),
  ]);
  assert.equal(a.wasmPath, b.wasmPath);
  assert.equal(a.hash, b.hash);
  assert.deepEqual([a.fromCache, b.fromCache].sort(), [false, true], 'exactly one of two concurrent calls componentizes');
  assert.match(a.hash, /^[0-9a-f]{64}$/);
  assert.equal(a.wasmPath, join(cacheDir, `${a.hash}.wasm`));
  assert.ok(progress.some((m) => m.startsWith('bundled')), progress.join('\n'));
  assert.ok(progress.some((m) => m.includes('componentizing') || m.includes('already running')), progress.join('\n'));

  const bytes = readFileSync(a.wasmPath);
  assert.deepEqual([...bytes.subarray(0, 8)], COMPONENT_MAGIC, 'component magic + layer bytes');
  assert.ok(bytes.length > 1_000_000);
  assert.match(componentHash(bytes), /^sha256:[0-9a-f]{64}$/);
  // Only the component is left in the cache: no temporary files, no lock.
  assert.deepEqual(readdirSync(cacheDir), [`${a.hash}.wasm`]);

  const builtAt = statSync(a.wasmPath).mtimeMs;
  const again: string[] = [];
  const c = await buildComponent({ entry: probeEntry, witDir, cacheDir, onProgress: (m) => again.push(m) });
  assert.equal(c.fromCache, true);
  assert.equal(c.hash, a.hash);
  // A cache hit does no componentize work: it says so, starts no build, and leaves the file alone.
  assert.ok(again.includes(`cache hit: ${a.wasmPath}`) && !again.some((m) => m.startsWith('componentizing')), again.join('\n'));
  assert.equal(statSync(a.wasmPath).mtimeMs, builtAt);
});

test('componentHash is sha256 of the bytes', () => {
  assert.equal(componentHash(new Uint8Array()), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('the build hash follows the source, the WIT and the options', async () => {
  const entry = join(work, 'variant.ts');
  const variant = (v: string) =>
    writeFileSync(entry, `import { handler as h } from ${JSON.stringify(probeEntry)};\nexport function handler(r: any) { const tag = ${JSON.stringify(v)}; return tag ? h(r) : h(r); }\n`);
  variant('one');
  const p1 = await planBuild({ entry, witDir, cacheDir });
  const p1again = await planBuild({ entry, witDir, cacheDir });
  variant('two');
  const p2 = await planBuild({ entry, witDir, cacheDir });
  assert.equal(p1.hash, p1again.hash, 'deterministic');
  assert.notEqual(p1.hash, p2.hash, 'source change changes the hash');
  assert.equal(p2.cached, false);

  const p3 = await planBuild({ entry, witDir, cacheDir, disableFeatures: ['http', 'fetch-event', 'stdio'] });
  assert.notEqual(p3.hash, p2.hash, 'options change the hash');
  const p3b = await planBuild({ entry, witDir, cacheDir, disableFeatures: ['stdio', 'fetch-event', 'http', 'http'] });
  assert.equal(p3b.hash, p3.hash, 'feature order and duplicates do not matter');

  const wit2 = join(work, 'wit2');
  cpSync(witDir, wit2, { recursive: true });
  assert.equal((await planBuild({ entry, witDir: wit2, cacheDir })).hash, p2.hash, 'same WIT content, other folder: same hash');
  writeFileSync(join(wit2, 'extra.wit.txt'), 'x');
  assert.notEqual((await planBuild({ entry, witDir: wit2, cacheDir })).hash, p2.hash, 'a WIT folder change changes the hash');
});

test('a syntax error names the file and line; bad options are rejected before any work', async () => {
  const bad = join(work, 'bad-entry.ts');
  writeFileSync(bad, 'export function handler(r: any) {\n  return { status: 200 headers: [] };\n}\n');
  await assert.rejects(buildComponent({ entry: bad, witDir, cacheDir }), (e: unknown) => {
    assert.ok(e instanceof ComponentBuildError);
    assert.equal(e.phase, 'bundle');
    assert.ok(e.message.includes(`${bad}:2:`), e.message);
    assert.deepEqual(e.location && { file: e.location.file, line: e.location.line }, { file: bad, line: 2 });
    return true;
  });

  const importer = join(work, 'importer.ts');
  writeFileSync(importer, "import { nothing } from './does-not-exist';\nexport function handler() { return nothing; }\n");
  await assert.rejects(buildComponent({ entry: importer, witDir, cacheDir }), (e: unknown) => {
    assert.ok(e instanceof ComponentBuildError);
    assert.ok(e.message.includes(`${importer}:1:`) && e.message.includes('does-not-exist'), e.message);
    return true;
  });

  await assert.rejects(buildComponent({ entry: join(work, 'missing.ts'), witDir, cacheDir }), /entry not found/);
  await assert.rejects(buildComponent({ entry: probeEntry, witDir, cacheDir, disableFeatures: ['sockets'] }), /unknown componentize-js feature/);
});
