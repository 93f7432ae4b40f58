// Regenerates the TypeScript declarations of the alga:extension world from wit/.
//   src/host/wit-types/   what a host must supply (imports) and may call (exports)
//   components/wit-types/ what a guest component sees (for extension authors)
// Run after any change to wit/: `node scripts/gen-wit-types.mjs`. A test checks they are current.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { generateHostTypes, generateGuestTypes } from '@bytecodealliance/jco-transpile';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

_setPreopens({ '/': '/' }); // preview2-shim 0.26.1 has no default preopen; jco reads the WIT through it
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wit = join(root, 'wit');

export async function generate() {
  const host = await generateHostTypes(wit, { worldName: 'runner', instantiation: { tag: 'async' } });
  const guest = await generateGuestTypes(wit, { worldName: 'runner' });
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
