/**
 * The imported interfaces of `alga:extension/runner`: the list is generated from wit/ (world order,
 * jco's camelCase function names), and checked here against jco's own declarations, so a WIT change
 * that is not regenerated, or an interface jco and the list disagree on, fails `tsc`.
 */
import type { ImportObject } from './wit-types/runner.js';
import { WORLD_IMPORTS } from './wit-types/world-imports.js';

export { WORLD_IMPORTS };
export type { WorldImportErrors } from './wit-types/world-imports.js';

/** jco's declaration of each imported interface (the shared `types` interface has no functions). */
export type WorldInterfaces = Omit<ImportObject, 'alga:extension/types'>;
export type InterfaceName = keyof WorldInterfaces;
export type FunctionName<I extends InterfaceName> = keyof WorldInterfaces[I] & string;

// Both directions: every interface jco declares is listed, and every listed function is one jco declares.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ListedFunctions = { [I in InterfaceName]: (typeof WORLD_IMPORTS)[I][number] };
type DeclaredFunctions = { [I in InterfaceName]: FunctionName<I> };
const interfacesMatch: Exactly<keyof typeof WORLD_IMPORTS, InterfaceName> = true;
const functionsMatch: Exactly<ListedFunctions, DeclaredFunctions> = true;
void interfacesMatch;
void functionsMatch;
