/**
 * An install's secrets, as production keeps them (docs/production-contract.md#secrets): one row of
 * `tenant_extension_install_secrets` per install, `inline/base64` (base64 of a UTF-8 JSON map), each
 * write merging the new keys over the old map (empty keys refused, null values dropped, other values
 * made strings), a new random `version` on every write, an empty map deleting the row. Executions carry
 * the row as production's `secret_envelope`. Values never leave this module except inside an envelope.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withTransaction, type Queryable } from '../db/database.js';
import type { ExecuteRequestBody } from '../../shared/execute-envelope.js';

export type SecretEnvelope = NonNullable<ExecuteRequestBody['secret_envelope']>;

export const INLINE_ALGORITHM = 'inline/base64';

export class SecretsInputError extends Error {}

/** A map → production's inline ciphertext. */
export function encodeInlineSecrets(values: Record<string, string>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64');
}

/** Production's inline ciphertext → its map; throws when it is not one. */
export function decodeInlineSecrets(ciphertext: string): Record<string, string> {
  if (ciphertext.trim() === '') return {};
  const parsed = JSON.parse(Buffer.from(ciphertext, 'base64').toString('utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the stored secrets are not a JSON map');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) out[k] = typeof v === 'string' ? v : String(v);
  return out;
}

/** Production's merge: new keys over the old map, null (and undefined) values removed, others `String()`-ed. */
export function mergeSecrets(old: Record<string, string>, changes: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = { ...old };
  for (const [key, value] of Object.entries(changes)) {
    if (key.trim() === '') throw new SecretsInputError('a secret key must not be empty');
    if (value === null || value === undefined) delete out[key];
    else out[key] = typeof value === 'string' ? value : String(value);
  }
  return out;
}

/**
 * The envelope of the install's row, as a scalar SQL subquery on install alias `alias` (so a query that
 * loads an install carries its secrets in the same round trip). NULL without a row.
 */
export function secretEnvelopeColumn(alias: string): string {
  return `(SELECT json_build_object('ciphertext_b64', x.ciphertext, 'algorithm', x.algorithm, 'version', x.version,
            'expires_at', x.expires_at, 'key_path', x.transit_key, 'mount', x.transit_mount)
       FROM tenant_extension_install_secrets x WHERE x.install_id = ${alias}.id) AS secret_envelope`;
}

/** A row's envelope with its null fields left out (as the execute request's optional fields). */
export function envelopeFromRow(raw: unknown): SecretEnvelope | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.ciphertext_b64 !== 'string') return undefined;
  const env: SecretEnvelope = { ciphertext_b64: r.ciphertext_b64 };
  for (const f of ['version', 'algorithm', 'expires_at', 'key_path', 'mount'] as const) {
    const v = r[f];
    if (typeof v === 'string') env[f] = f === 'expires_at' ? new Date(v).toISOString() : v;
  }
  return env;
}

interface SecretsRow {
  ciphertext: string;
  algorithm: string | null;
}

async function storedMap(q: Queryable, installId: string): Promise<Record<string, string>> {
  const r = await q.query<SecretsRow>(`SELECT ciphertext, algorithm FROM tenant_extension_install_secrets WHERE install_id = $1`, [installId]);
  const row = r.rows[0];
  if (!row) return {};
  if (row.algorithm && row.algorithm.trim().toLowerCase().startsWith('vault-transit')) {
    throw new SecretsInputError('the install\'s secrets are kept in Vault transit; this runner only writes inline secrets');
  }
  return decodeInlineSecrets(row.ciphertext);
}

/**
 * Merges `changes` into the install's secrets (a null value removes that key) and writes a new
 * version; the row is deleted when nothing is left. Returns the keys now stored.
 */
export function writeInstallSecrets(pool: pg.Pool, install: { installId: string; tenantId: string }, changes: Record<string, unknown>): Promise<string[]> {
  return withTransaction(pool, async (q) => {
    // Writers of one install queue on its row, so two merges never lose each other's keys.
    await q.query(`SELECT 1 FROM tenant_extension_install WHERE id = $1 FOR UPDATE`, [install.installId]);
    return mergeAndWrite(q, install, changes);
  });
}

async function mergeAndWrite(q: Queryable, install: { installId: string; tenantId: string }, changes: Record<string, unknown>): Promise<string[]> {
  const merged = mergeSecrets(await storedMap(q, install.installId), changes);
  if (Object.keys(merged).length === 0) {
    await q.query(`DELETE FROM tenant_extension_install_secrets WHERE install_id = $1`, [install.installId]);
    return [];
  }
  await q.query(
    `INSERT INTO tenant_extension_install_secrets (install_id, tenant_id, ciphertext, algorithm, version)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (install_id) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, algorithm = EXCLUDED.algorithm,
       transit_key = NULL, transit_mount = NULL, version = EXCLUDED.version, tenant_id = EXCLUDED.tenant_id, updated_at = now()`,
    [install.installId, install.tenantId, encodeInlineSecrets(merged), INLINE_ALGORITHM, randomUUID()],
  );
  return Object.keys(merged).sort();
}

/** The keys of the install's secrets (never the values). */
export async function listInstallSecretKeys(q: Queryable, installId: string): Promise<string[]> {
  return Object.keys(await storedMap(q, installId)).sort();
}

/**
 * The envelope one execution carries when the caller adds or overrides secrets for it alone
 * (`exec --secret`): the stored map with `overrides` merged over it, inline. Without overrides, the
 * stored envelope as it is.
 */
export function executionEnvelope(stored: SecretEnvelope | undefined, overrides: Record<string, string> | undefined): SecretEnvelope | undefined {
  if (!overrides || Object.keys(overrides).length === 0) return stored;
  let base: Record<string, string> = {};
  if (stored) {
    if (stored.algorithm?.trim().toLowerCase().startsWith('vault-transit')) {
      throw new SecretsInputError('the install\'s secrets are kept in Vault transit; --secret cannot be merged into them');
    }
    base = decodeInlineSecrets(stored.ciphertext_b64);
  }
  return { ciphertext_b64: encodeInlineSecrets(mergeSecrets(base, overrides)), algorithm: INLINE_ALGORITHM, version: randomUUID() };
}
