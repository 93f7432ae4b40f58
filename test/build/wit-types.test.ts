import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { WORLD_IMPORTS } from '../../src/host/world.js';
import { projectRoot } from '../support/components.js';

test('wit types: the committed TypeScript declarations match what jco generates from wit/', async () => {
  const { generate } = (await import(pathToFileURL(join(projectRoot(), 'scripts', 'gen-wit-types.mjs')).href)) as {
    generate(): Promise<Record<string, Record<string, Uint8Array>>>;
  };
  const generated = await generate();
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
