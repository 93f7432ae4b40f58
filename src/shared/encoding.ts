/** Encodings production's Rust code applies, in the one form both halves use. */

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with its padding and nothing else (the `base64` crate's STANDARD decoder), or undefined. */
export function strictBase64(s: string): Uint8Array | undefined {
  return STRICT_BASE64.test(s) ? new Uint8Array(Buffer.from(s, 'base64')) : undefined;
}

/** JSON with object keys sorted, as production's runner re-serializes (serde_json without preserve_order). */
export function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(sort(value));
}
