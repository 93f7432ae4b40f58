// Regenerates the TypeScript declarations of the alga:extension world from wit/.
//   src/host/wit-types/   what a host must supply (imports) and may call (exports)
//   components/wit-types/ what a guest component sees (for extension authors)
//   src/host/wit-types/world-imports.ts  the world's import list and each function's WIT error type,
//                         which jco's declarations do not carry (host code is typed by both)
// Run after any change to wit/: `node scripts/gen-wit-types.mjs`. A test checks they are current.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { generateHostTypes, generateGuestTypes } from '@bytecodealliance/jco-transpile';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

_setPreopens({ '/': '/' }); // preview2-shim 0.26.1 has no default preopen; jco reads the WIT through it
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wit = join(root, 'wit');

const camel = (s) => s.replace(/-([a-z0-9])/g, (_m, c) => c.toUpperCase());
const pascal = (s) => camel(s).replace(/^./, (c) => c.toUpperCase());

/** The world's imports in order, each with its functions and the error type of each function's
 * `result` (null when it returns no result), read from the WIT text. */
export function worldImports(witText) {
  const world = witText.slice(witText.indexOf('world runner'));
  return [...world.matchAll(/^\s*import ([\w-]+);/gm)].map(([, name]) => {
    const start = witText.indexOf(`interface ${name} {`);
    if (start < 0) throw new Error(`interface ${name} is imported by the world but not declared`);
    const body = witText.slice(start, witText.indexOf('\n}', start));
    const functions = [...body.matchAll(/^\s+([\w-]+): func\((.*)\)(?:\s*->\s*(.+?))?;\s*$/gm)].map(([, fn, , ret]) => {
      const error = ret?.match(/^result<.*,\s*([\w-]+)>$/)?.[1] ?? null;
      return { name: camel(fn), error: error && pascal(error) };
    });
    return { name: `alga:extension/${name}`, functions };
  });
}

function worldImportsModule(witText) {
  const imports = worldImports(witText);
  const list = imports.map((i) => `  '${i.name}': [${i.functions.map((f) => `'${f.name}'`).join(', ')}],`).join('\n');
  const errors = imports
    .map((i) => `  '${i.name}': { ${i.functions.map((f) => `${f.name}: ${f.error ? `T.${f.error}` : 'never'};`).join(' ')} };`)
    .join('\n');
  return `// Generated from wit/ by scripts/gen-wit-types.mjs. Do not edit.
import type * as T from './interfaces/alga-extension-types.js';

/** The imported interfaces of world \`runner\`, in world order, with their functions (jco's names). */
export const WORLD_IMPORTS = {
${list}
} as const;

/** Per imported function, the error type of its WIT \`result\`; \`never\` where it returns no result. */
export interface WorldImportErrors {
${errors}
}
`;
}

export async function generate(witDir = wit) {
  const host = await generateHostTypes(witDir, { worldName: 'runner', instantiation: { tag: 'async' } });
  const guest = await generateGuestTypes(witDir, { worldName: 'runner' });
  const witText = readFileSync(join(witDir, 'extension-runner.wit'), 'utf8');
  host['world-imports.ts'] = new TextEncoder().encode(worldImportsModule(witText));
  return { 'src/host/wit-types': host, 'components/wit-types': guest };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [dir, files] of Object.entries(await generate())) {
    rmSync(join(root, dir), { recursive: true, force: true });
    for (const [name, bytes] of Object.entries(files)) {
      const out = join(root, dir, name);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, bytes);
    }
    writeFileSync(join(root, dir, 'README.md'), 'Generated from `wit/` by `node scripts/gen-wit-types.mjs`. Do not edit.\n');
  }
}
