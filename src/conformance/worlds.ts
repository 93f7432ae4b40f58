/**
 * The world versions the conformance kit runs: today's (wit/) and earlier ones (wit-history/<date>/,
 * docs/production-contract.md#world-history). Each is built from the same source (components/conformance/src/core.ts) through
 * a small entry that imports only what that world has (components/conformance/src/worlds/<entry>.ts).
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../dev/extension-dir.js';

export type InterfaceId =
  | 'context' | 'secrets' | 'http' | 'storage' | 'logging' | 'ui-proxy' | 'user' | 'user-v2'
  | 'scheduler' | 'invoicing' | 'clients' | 'services';

export interface WorldSpec {
  /** `current`, or the date the production declaration changed. */
  id: string;
  /** Since when production declared it (informational). */
  since: string;
  description: string;
  /** WIT folder, relative to the project root. */
  witDir: string;
  /** Guest entry, relative to the project root. */
  entry: string;
  interfaces: readonly InterfaceId[];
  /** The fields a component of this world reads from `user.get-user`'s record (jco camelCase), exactly. */
  userFields: readonly string[];
  /** Same for `user-v2.get-user`, when the world has it. */
  userV2Fields?: readonly string[];
}

const BASE: readonly InterfaceId[] = ['context', 'secrets', 'http', 'storage', 'logging', 'ui-proxy', 'user', 'scheduler'];

export const WORLDS: readonly WorldSpec[] = [
  {
    id: 'current',
    since: '2026-03-26',
    description: "today's world (clients, services added)",
    witDir: 'wit',
    entry: 'components/conformance/src/worlds/current.ts',
    interfaces: [...BASE.slice(0, 7), 'user-v2', 'scheduler', 'invoicing', 'clients', 'services'],
    userFields: ['tenantId', 'clientName', 'userId', 'userEmail', 'userName', 'userType'],
    userV2Fields: ['tenantId', 'clientName', 'userId', 'userEmail', 'userName', 'userType', 'clientId', 'additionalFields'],
  },
  {
    id: '2026-02-04',
    since: '2026-02-04',
    description: 'user-v2 added; both user records with client-id (production 04be1518e7)',
    witDir: 'wit-history/2026-02-04',
    entry: 'components/conformance/src/worlds/w2026-02-04.ts',
    interfaces: [...BASE.slice(0, 7), 'user-v2', 'scheduler', 'invoicing'],
    userFields: ['tenantId', 'clientName', 'userId', 'userEmail', 'userName', 'userType', 'clientId'],
    userV2Fields: ['tenantId', 'clientName', 'userId', 'userEmail', 'userName', 'userType', 'clientId'],
  },
  {
    id: '2026-01-30',
    since: '2026-01-30',
    description: 'invoicing; user-data with client-name, user-type, client-id (production b9eafb843f)',
    witDir: 'wit-history/2026-01-30',
    entry: 'components/conformance/src/worlds/w2026-01-30.ts',
    interfaces: [...BASE, 'invoicing'],
    userFields: ['tenantId', 'clientName', 'userId', 'userEmail', 'userName', 'userType', 'clientId'],
  },
  {
    id: '2026-01-03',
    since: '2026-01-03',
    description: 'scheduler added; user-data with company-name, no user-type (production 8ccf1cd440)',
    witDir: 'wit-history/2026-01-03',
    entry: 'components/conformance/src/worlds/w2026-01-03.ts',
    interfaces: BASE,
    userFields: ['tenantId', 'companyName', 'userId', 'userEmail', 'userName'],
  },
];

export function worldPaths(w: WorldSpec): { witDir: string; entry: string } {
  return { witDir: join(PROJECT_ROOT, w.witDir), entry: join(PROJECT_ROOT, w.entry) };
}

export function findWorlds(ids: readonly string[] | undefined): WorldSpec[] {
  if (!ids || ids.length === 0) return [...WORLDS];
  return ids.map((id) => {
    const w = WORLDS.find((x) => x.id === id || x.since === id);
    if (!w) throw new Error(`unknown world "${id}" (known: ${WORLDS.map((x) => x.id).join(', ')})`);
    return w;
  });
}
