/** An install's secrets as production stores them (docs/production-contract.md#secrets). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { findInstall } from '../../../src/server/registry/registry.js';
import {
  decodeInlineSecrets,
  encodeInlineSecrets,
  executionEnvelope,
  listInstallSecretKeys,
  SecretsInputError,
  writeInstallSecrets,
} from '../../../src/server/secrets/install-secrets.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

const row = async (installId: string) => (await db.pool.query(`SELECT * FROM tenant_extension_install_secrets WHERE install_id = $1`, [installId])).rows[0];

test('writes merge over the stored map, inline/base64, with a new version each time; null removes a key; other values become strings', async () => {
  const i = await insertInstall(db.pool);
  assert.deepEqual(await writeInstallSecrets(db.pool, i, { api_key: 'k1', region: 'eu' }), ['api_key', 'region']);
  const first = await row(i.installId);
  assert.equal(first.algorithm, 'inline/base64');
  assert.equal(first.tenant_id, i.tenantId);
  assert.deepEqual(JSON.parse(Buffer.from(first.ciphertext, 'base64').toString()), { api_key: 'k1', region: 'eu' });
  await writeInstallSecrets(db.pool, i, { region: null, retries: 3, api_key: 'k2' });
  const second = await row(i.installId);
  assert.notEqual(second.version, first.version);
  assert.deepEqual(decodeInlineSecrets(second.ciphertext), { api_key: 'k2', retries: '3' });
  assert.deepEqual(await listInstallSecretKeys(db.pool, i.installId), ['api_key', 'retries']);
});

test('an empty key is refused and nothing is written; removing every key deletes the row', async () => {
  const i = await insertInstall(db.pool);
  await writeInstallSecrets(db.pool, i, { a: '1' });
  await assert.rejects(writeInstallSecrets(db.pool, i, { b: '2', ' ': 'x' }), SecretsInputError);
  assert.deepEqual(await listInstallSecretKeys(db.pool, i.installId), ['a']);
  assert.deepEqual(await writeInstallSecrets(db.pool, i, { a: null }), []);
  assert.equal(await row(i.installId), undefined);
});

test('concurrent writes of one install lose no key', async () => {
  const i = await insertInstall(db.pool);
  await Promise.all(Array.from({ length: 10 }, (_, n) => writeInstallSecrets(db.pool, i, { [`k${n}`]: String(n) })));
  assert.equal((await listInstallSecretKeys(db.pool, i.installId)).length, 10);
});

test('findInstall carries the row as production\'s secret_envelope; none without a row', async () => {
  const i = await insertInstall(db.pool);
  const name = (await db.pool.query(`SELECT name FROM extension_registry WHERE id = $1`, [i.registryId])).rows[0].name;
  assert.equal((await findInstall(db.pool, i.tenantId, name))!.secretEnvelope, undefined);
  await writeInstallSecrets(db.pool, i, { api_key: 'v' });
  const env = (await findInstall(db.pool, i.tenantId, name))!.secretEnvelope!;
  const stored = await row(i.installId);
  assert.deepEqual(env, { ciphertext_b64: stored.ciphertext, algorithm: 'inline/base64', version: stored.version });
});

test('executionEnvelope: overrides merge over the stored map for one execution; none given: the stored envelope as is', () => {
  const stored = { ciphertext_b64: encodeInlineSecrets({ a: '1', b: '2' }), algorithm: 'inline/base64', version: 'v1' };
  assert.equal(executionEnvelope(stored, {}), stored);
  const merged = executionEnvelope(stored, { b: 'B', c: '3' })!;
  assert.deepEqual(decodeInlineSecrets(merged.ciphertext_b64), { a: '1', b: 'B', c: '3' });
  assert.notEqual(merged.version, 'v1');
  assert.deepEqual(decodeInlineSecrets(executionEnvelope(undefined, { x: 'y' })!.ciphertext_b64), { x: 'y' });
  assert.throws(() => executionEnvelope({ ciphertext_b64: 'vault:v1:abc', algorithm: 'vault-transit' }, { x: 'y' }), SecretsInputError);
});
