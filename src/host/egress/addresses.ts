/**
 * Which addresses an extension may connect to (docs/differences.md#egress). Link-local and cloud
 * metadata addresses are never reachable unless the host is on the allowlist; with
 * NODE_ENV=production neither are loopback, unspecified and private ranges. IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

const METADATA = new BlockList();
METADATA.addSubnet('169.254.0.0', 16, 'ipv4');
METADATA.addSubnet('fe80::', 10, 'ipv6');
METADATA.addAddress('fd00:ec2::254', 'ipv6');

const INTERNAL = new BlockList();
INTERNAL.addSubnet('0.0.0.0', 8, 'ipv4');
INTERNAL.addSubnet('127.0.0.0', 8, 'ipv4');
INTERNAL.addSubnet('10.0.0.0', 8, 'ipv4');
INTERNAL.addSubnet('172.16.0.0', 12, 'ipv4');
INTERNAL.addSubnet('192.168.0.0', 16, 'ipv4');
INTERNAL.addSubnet('100.64.0.0', 10, 'ipv4');
INTERNAL.addAddress('::', 'ipv6');
INTERNAL.addAddress('::1', 'ipv6');
INTERNAL.addSubnet('fc00::', 7, 'ipv6');

/** `::ffff:a.b.c.d` or `::ffff:xxxx:yyyy` (any spelling) → `a.b.c.d`; otherwise the address as given. */
export function unmapIpv4(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const v = isIP(a);
  if (v === 4) return { address: a, family: 'ipv4' };
  if (v !== 6) return { address: a, family: 'ipv6' };
  const groups = expandIpv6(a);
  if (groups && groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { address: `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`, family: 'ipv4' };
  }
  return { address: a, family: 'ipv6' };
}

/** Eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail included). */
function expandIpv6(a: string): number[] | undefined {
  let s = a;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const [p, q, r, t] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    s = s.slice(0, -dotted[1]!.length) + `${((p << 8) | q).toString(16)}:${((r << 8) | t).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

export type AddressVerdict = 'allowed' | 'metadata' | 'internal';

/** What kind of address this is for the egress rules. */
export function classifyAddress(address: string): AddressVerdict {
  const { address: a, family } = unmapIpv4(address);
  if (METADATA.check(a, family)) return 'metadata';
  if (INTERNAL.check(a, family)) return 'internal';
  return 'allowed';
}

export interface EgressPolicy {
  /** NODE_ENV=production: loopback, unspecified and private addresses are refused too. */
  refuseInternal: boolean;
}

/** May a host not on the allowlist connect to `address`? (An allowlisted host always may.) */
export function addressPermitted(address: string, policy: EgressPolicy): boolean {
  const v = classifyAddress(address);
  return v === 'allowed' || (v === 'internal' && !policy.refuseInternal);
}
