/**
 * The execute request's `secret_envelope` → the install's secrets, once per execution before the guest
 * runs (docs/production-contract.md#secrets): `algorithm` starting with `vault-transit` is decrypted by
 * Vault's transit engine, anything else is inline (base64 of a UTF-8 JSON map of strings); an empty
 * ciphertext is no secrets. Decrypted maps are cached 30 s, or until the envelope's `expires_at` when
 * sooner, keyed by install, version and a digest of the algorithm, key path, mount and ciphertext. Any failure is the caller's
 * `secret_decrypt_failed`; no value ever reaches an error message.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { strictBase64 } from '../shared/encoding.js';
import type { ParsedExecuteRequest } from '../shared/execute-envelope.js';

export type Envelope = NonNullable<ParsedExecuteRequest['secret_envelope']>;

export interface VaultOptions {
  /** VAULT_ADDR, else ALGA_VAULT_ADDR; without it a vault-transit envelope fails. */
  addr?: string;
  /** ALGA_VAULT_TOKEN_FILE (production's default /run/secrets/alga_vault_token), read at each decrypt. */
  tokenFile: string;
  /** ALGA_VAULT_TRANSIT_MOUNT; an envelope's own `mount` wins; default `transit`. */
  mount?: string;
  /** VAULT_NAMESPACE, sent as X-Vault-Namespace. */
  namespace?: string;
  timeoutMs?: number;
}

export const DEFAULT_VAULT_TOKEN_FILE = '/run/secrets/alga_vault_token';
const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 1_000;

/** Why decryption failed, without any secret material. */
export class SecretDecryptError extends Error {}

/** base64 → a JSON object whose every value is a string (production's `HashMap<String, String>`). */
function stringMap(b64: string, what: string): Record<string, string> {
  const bytes = strictBase64(b64);
  if (!bytes) throw new SecretDecryptError(`${what}: not valid base64`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new SecretDecryptError(`${what}: not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SecretDecryptError(`${what}: not a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new SecretDecryptError(`${what}: a value is not a string`);
    out[k] = v;
  }
  return out;
}

async function vaultDecrypt(env: Envelope, vault: VaultOptions): Promise<Record<string, string>> {
  if (!vault.addr) throw new SecretDecryptError('VAULT_ADDR not configured');
  if (!env.key_path) throw new SecretDecryptError('secret_envelope.key_path missing for vault transit');
  let token: string;
  try {
    token = (await readFile(vault.tokenFile, 'utf8')).trim();
  } catch (e) {
    throw new SecretDecryptError(`failed to read vault token ${vault.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!token) throw new SecretDecryptError(`vault token at ${vault.tokenFile} is empty`);
  const mount = (env.mount ?? vault.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
  const url = `${vault.addr.replace(/\/+$/, '')}/v1/${mount}/decrypt/${env.key_path.replace(/^\/+|\/+$/g, '')}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-vault-token': token };
  if (vault.namespace) headers['x-vault-namespace'] = vault.namespace;
  let status: number;
  let text: string;
  try {
    const timeout = vault.timeoutMs ?? 30_000;
    const res = await request(url, { method: 'POST', headers, body: JSON.stringify({ ciphertext: env.ciphertext_b64 }), headersTimeout: timeout, bodyTimeout: timeout });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    throw new SecretDecryptError(`vault transit decrypt failed: ${(e as Error).message}`);
  }
  // The answer's text is not quoted: a Vault error never carries plaintext, but a 2xx would.
  if (status < 200 || status >= 300) throw new SecretDecryptError(`vault transit decrypt failed (status ${status})`);
  let plaintext: unknown;
  try {
    plaintext = (JSON.parse(text) as { data?: { plaintext?: unknown } })?.data?.plaintext;
  } catch {
    throw new SecretDecryptError('vault transit response is not JSON');
  }
  if (typeof plaintext !== 'string') throw new SecretDecryptError('vault transit response missing data.plaintext');
  return stringMap(plaintext.trim(), 'vault transit plaintext');
}

/** Decrypts an envelope, no cache. */
export async function decryptEnvelope(env: Envelope, vault: VaultOptions): Promise<Record<string, string>> {
  if (env.ciphertext_b64.trim() === '') return {};
  if ((env.algorithm ?? '').trim().toLowerCase().startsWith('vault-transit')) return vaultDecrypt(env, vault);
  return stringMap(env.ciphertext_b64, 'secret_envelope');
}

/** The runner's cache of decrypted envelopes (production's 30 s, or less until `expires_at`). */
export function createSecretResolver(vault: VaultOptions, now: () => number = Date.now) {
  const cache = new Map<string, { values: Record<string, string>; until: number }>();
  return async function resolve(owner: { tenantId: string; extensionId: string; installId?: string }, env: Envelope): Promise<Record<string, string>> {
    // Everything that decides the plaintext: the same ciphertext under another key or mount is another secret.
    const digest = createHash('sha256')
      .update(JSON.stringify([env.algorithm ?? '', env.key_path ?? '', env.mount ?? '', env.ciphertext_b64]))
      .digest('hex');
    const key = `${owner.tenantId}:${owner.extensionId}:${owner.installId ?? ''}:${env.version ?? 'none'}:${digest}`;
    const t = now();
    const hit = cache.get(key);
    if (hit && t < hit.until) return hit.values;
    const values = await decryptEnvelope(env, vault);
    let ttl = CACHE_TTL_MS;
    const expires = env.expires_at ? Date.parse(env.expires_at) : NaN;
    if (Number.isFinite(expires) && expires > t) ttl = Math.min(ttl, expires - t);
    cache.delete(key);
    cache.set(key, { values, until: t + ttl });
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
    return values;
  };
}
