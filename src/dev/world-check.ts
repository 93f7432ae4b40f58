/**
 * A component built against another WIT than this runner's: the functions it imports that our world
 * does not have. Read from jco's glue, where each imported interface is one destructuring line
 * (`const { getContext } = imports['alga:extension/context'];`); such a component would instantiate
 * and then trap on the first call of the missing function.
 */
import { WORLD_IMPORTS } from '../host/world.js';

const IMPORT_LINE = /const \{([^}]*)\} = imports\['([^']+)'\];/g;

/** `alga:extension/<interface>#<function>` (or `…/<interface>` for a whole unknown interface). */
export function worldMismatches(glue: string): string[] {
  const known = WORLD_IMPORTS as Record<string, readonly string[]>;
  const out: string[] = [];
  for (const m of glue.matchAll(IMPORT_LINE)) {
    const name = m[2]!;
    if (!name.startsWith('alga:')) continue; // wasi:* comes from preview2-shim
    const functions = known[name.replace(/@[^/@]*$/, '')];
    if (!functions) {
      out.push(name);
      continue;
    }
    for (const part of m[1]!.split(',')) {
      const fn = part.split(':')[0]!.trim();
      if (fn && !functions.includes(fn)) out.push(`${name}#${fn}`);
    }
  }
  return out;
}
