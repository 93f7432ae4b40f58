/** Capability names and defaults, identical to production's runner and server
 * (docs/production-contract.md#capabilities). */
export const KNOWN_CAPABILITIES = [
  'cap:context.read',
  'cap:secrets.get',
  'cap:http.fetch',
  'cap:storage.kv',
  'cap:log.emit',
  'cap:ui.proxy',
  'cap:user.read',
  'cap:scheduler.manage',
  'cap:invoice.manual.create',
  'cap:client.read',
  'cap:service.read',
] as const;

export type Capability = (typeof KNOWN_CAPABILITIES)[number];

/** Always granted, whatever the install says. */
export const DEFAULT_CAPABILITIES: readonly Capability[] = ['cap:context.read', 'cap:log.emit', 'cap:user.read'];

const known = new Set<string>(KNOWN_CAPABILITIES);

export function normalizeCapability(raw: string): string {
  return raw.trim().toLowerCase();
}

export function isKnownCapability(cap: string): cap is Capability {
  return known.has(cap);
}

/**
 * The runner's treatment of `providers` in /v1/execute: trim, lowercase, drop empties, add the
 * defaults; any unknown entry is reported (production answers `unknown_capabilities: a, b`).
 */
export function resolveProviders(providers: readonly string[]): { granted: Set<Capability>; unknown: string[] } {
  const granted = new Set<Capability>(DEFAULT_CAPABILITIES);
  const unknown: string[] = [];
  for (const p of providers) {
    const cap = normalizeCapability(p);
    if (!cap) continue;
    if (isKnownCapability(cap)) granted.add(cap);
    else if (!unknown.includes(cap)) unknown.push(cap);
  }
  return { granted, unknown };
}

/** The server's coercion (docs/production-contract.md#capabilities): an array or a JSON string of names; unknown names are dropped. */
export function coerceCapabilities(raw: unknown): Capability[] {
  let list: unknown = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  const out: Capability[] = [];
  for (const item of list) {
    if (typeof item !== 'string') continue;
    const cap = normalizeCapability(item);
    if (isKnownCapability(cap) && !out.includes(cap)) out.push(cap);
  }
  return out;
}
