/**
 * The host never imports the server (src/host/ports.ts): a composition root wires the ports, and a
 * sandbox worker reaches the server's services only through the module its WorkerIoSpec names.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../support/components.js';

/** Static imports, re-exports, `import type` and literal dynamic imports. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** Files under `root/host` whose relative imports resolve under `root/server`, as "file → specifier". */
function hostImportsOfServer(root: string): string[] {
  const server = join(root, 'server') + sep;
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(name)) {
        for (const [, spec] of readFileSync(p, 'utf8').matchAll(SPECIFIER)) {
          if (spec!.startsWith('.') && (resolve(dirname(p), spec!) + sep).startsWith(server)) found.push(`${relative(root, p)} → ${spec}`);
        }
      }
    }
  };
  walk(join(root, 'host'));
  return found;
}

test('no module under src/host imports one under src/server', () => {
  assert.deepEqual(hostImportsOfServer(join(projectRoot(), 'src')), []);
});

test('the check finds a static, a type-only, a re-exported and a dynamic import of the server', () => {
  const root = mkdtempSync(join(tmpdir(), 'alga-layering-'));
  try {
    mkdirSync(join(root, 'host', 'http'), { recursive: true });
    mkdirSync(join(root, 'server'));
    writeFileSync(join(root, 'host', 'a.ts'), `import { x } from '../server/x.js';\nimport type { Y } from "../shared/y.js";\n`);
    writeFileSync(join(root, 'host', 'http', 'b.ts'), `import type { Y } from '../../server/y.js';\nexport { z } from '../../server/z.js';\nconst m = await import('../../server/m.js');\n`);
    writeFileSync(join(root, 'host', 'c.ts'), `import { s } from './server/s.js';\n`);
    assert.deepEqual(hostImportsOfServer(root).sort(), [
      `host${sep}a.ts → ../server/x.js`,
      `host${sep}http${sep}b.ts → ../../server/m.js`,
      `host${sep}http${sep}b.ts → ../../server/y.js`,
      `host${sep}http${sep}b.ts → ../../server/z.js`,
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
