import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { WORLD_IMPORTS } from '../../src/host/world.js';
import { projectRoot } from '../support/components.js';

test('wit types: the committed TypeScript declarations match what jco generates from wit/', async () => {
  const { generate } = (await import(pathToFileURL(join(projectRoot(), 'scripts', 'gen-wit-types.mjs')).href)) as {
    generate(): Promise<Record<string, Record<string, Uint8Array>>>;
  };
  const generated = await generate();
  assert.ok(generated['src/host/wit-types']!['world-imports.ts'], 'the world\'s import list is generated');
  for (const [dir, files] of Object.entries(generated)) {
    for (const [name, bytes] of Object.entries(files)) {
      const committed = readFileSync(join(projectRoot(), dir, name), 'utf8');
      assert.equal(committed, new TextDecoder().decode(bytes), `${dir}/${name} is stale: run node scripts/gen-wit-types.mjs`);
    }
  }
});

test('world: the host\'s import list names every interface and function of wit/, in world order', () => {
  const wit = readFileSync(join(projectRoot(), 'wit', 'extension-runner.wit'), 'utf8');
  const worldBlock = wit.slice(wit.indexOf('world runner'));
  const imports = [...worldBlock.matchAll(/import ([\w-]+);/g)].map((m) => `alga:extension/${m[1]}`);
  assert.deepEqual(Object.keys(WORLD_IMPORTS), imports);
  const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  for (const iface of imports) {
    const name = iface.split('/')[1]!;
    const body = wit.slice(wit.indexOf(`interface ${name} {`)).split('\n}')[0]!;
    const fns = [...body.matchAll(/^\s+([\w-]+): func/gm)].map((m) => camel(m[1]!));
    assert.deepEqual([...WORLD_IMPORTS[iface as keyof typeof WORLD_IMPORTS]], fns, iface);
  }
});

type Generate = (witDir?: string) => Promise<Record<string, Record<string, Uint8Array>>>;

test('world: a function renamed in wit/ breaks tsc in the host interface that implements it', async () => {
  const root = projectRoot();
  const { generate } = (await import(pathToFileURL(join(root, 'scripts', 'gen-wit-types.mjs')).href)) as { generate: Generate };
  const dir = mkdtempSync(join(tmpdir(), 'alga-wit-change-'));
  try {
    cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
    cpSync(join(root, 'wit'), join(dir, 'wit'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const witFile = join(dir, 'wit', 'extension-runner.wit');
    const wit = readFileSync(witFile, 'utf8');
    assert.match(wit, /get-context: func\(\)/);
    writeFileSync(witFile, wit.replace('get-context: func()', 'fetch-context: func()'));
    const hostTypes = (await generate(join(dir, 'wit')))['src/host/wit-types']!;
    rmSync(join(dir, 'src/host/wit-types'), { recursive: true });
    for (const [name, bytes] of Object.entries(hostTypes)) {
      mkdirSync(dirname(join(dir, 'src/host/wit-types', name)), { recursive: true });
      writeFileSync(join(dir, 'src/host/wit-types', name), bytes);
    }
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    const { incremental: _i, tsBuildInfoFile: _t, outDir: _o, ...options } = tsconfig.compilerOptions;
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...options, noEmit: true }, include: ['src/**/*.ts'] }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir }).then(
      (r) => ({ code: 0, text: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, text: e.stdout }),
    );
    assert.notEqual(out.code, 0, 'tsc must refuse host code that no longer matches wit/');
    const errors = out.text.split('\n').filter((l) => /error TS\d+/.test(l));
    assert.ok(errors.some((l) => l.startsWith('src/host/interfaces/context.ts') && /getContext|fetchContext/.test(l)), out.text);
    // Nothing else is broken in the copy: every error is about the renamed function.
    for (const l of errors) assert.match(l, /context\.ts|getContext|fetchContext/, l);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
