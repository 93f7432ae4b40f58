/** WIT errors as the guest sees them. No imports: wit-calls.ts (used by components of every world
 * version) takes this without pulling in host-bindings' imports of today's interfaces. */

/**
 * The payload of a WIT `result` error thrown by an import, or `undefined` if `e` is not one (a real
 * bug, e.g. a TypeError). componentize-js throws the bare payload (an enum case is its kebab-case
 * string) or an object carrying it as `payload` (jco's ComponentError); both are accepted.
 */
export function witErrorPayload(e: unknown): unknown {
  if (typeof e === 'string') return e;
  if (e !== null && typeof e === 'object' && 'payload' in e) return (e as { payload: unknown }).payload;
  return undefined;
}
