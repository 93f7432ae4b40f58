/**
 * `wasi:http/outgoing-handler` stays importable (a component built against production's world may
 * import it, and every import must exist at instantiation), but it is no way out: every request is
 * refused with the WIT error `HTTP-request-denied` (a value the guest can handle, never a trap).
 * Production links it with no capability, allowlist or address check; extensions reach the network
 * through `alga:extension/http.fetch`, which applies all three (docs/differences.md#egress).
 */
export const DENIED = { tag: 'HTTP-request-denied' } as const;

export const deniedOutgoingHandler = {
  handle(): never {
    throw DENIED;
  },
};

/** The WASI import object with every version of outgoing-handler replaced by the refusing one. */
export function withDeniedOutgoingHttp(imports: Record<string, unknown>): Record<string, unknown> {
  const out = { ...imports };
  for (const key of Object.keys(out)) if (key.startsWith('wasi:http/outgoing-handler')) out[key] = deniedOutgoingHandler;
  return out;
}
