/** Component content hashes, as production writes them (`sha256:<hex>`) and reads them (prefix optional). */
import { createHash } from 'node:crypto';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `sha256:<hex>` of a component's bytes. */
export function contentHashOf(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}

/** `sha256:<hex>` or bare hex → lowercase hex (production's runner strips the prefix the same way). */
export function contentHashHex(raw: string): string {
  return raw.trim().replace(/^sha256:/i, '').toLowerCase();
}
