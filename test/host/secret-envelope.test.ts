/** The runner's secret envelopes: inline and Vault transit (against a loopback stand-in that speaks
 * Vault's transit decrypt API), the cache, and secret_decrypt_failed (docs/production-contract.md#secrets). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSecretResolver, decryptEnvelope, SecretDecryptError } from '../../src/host/secret-envelope.js';
import { startProbeRunner, type ProbeRunner } from './http/probe-runner.js';

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

/** Vault's `POST /v1/{mount}/decrypt/{key}`: ciphertext `vault:v1:<base64 plaintext>` when the token matches. */
function vaultStandIn(token: string) {
  const seen: { url: string; token?: string; namespace?: string; body: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = data ? JSON.parse(data) : null;
      seen.push({ url: req.url!, token: req.headers['x-vault-token'] as string, namespace: req.headers['x-vault-namespace'] as string | undefined, body });
      const m = /^\/v1\/([^/]+)\/decrypt\/(.+)$/.exec(req.url!);
      if (!m || req.method !== 'POST') return void res.writeHead(404).end('{"errors":[]}');
      if (req.headers['x-vault-token'] !== token) return void res.writeHead(403).end('{"errors":["permission denied"]}');
      const ct = String(body?.ciphertext ?? '');
      if (!ct.startsWith('vault:v1:')) return void res.writeHead(400).end('{"errors":["invalid ciphertext"]}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { plaintext: ct.slice('vault:v1:'.length) } }));
    });
  });
  return { server, seen };
}

let dir: string;
let vault: ReturnType<typeof vaultStandIn>;
let vaultAddr: string;
let tokenFile: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alga-vault-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'root-token\n');
  vault = vaultStandIn('root-token');
  await new Promise<void>((r) => vault.server.listen(0, '127.0.0.1', () => r()));
  vaultAddr = `http://127.0.0.1:${(vault.server.address() as { port: number }).port}/`;
});
after(async () => {
  await new Promise((r) => vault.server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const transit = (map: Record<string, unknown>, extra: Record<string, string> = {}) => ({ ciphertext_b64: `vault:v1:${b64json(map)}`, algorithm: 'vault-transit', key_path: 'tenant-key', ...extra });

describe('decryptEnvelope', () => {
  const opts = () => ({ addr: vaultAddr, tokenFile });

  test('inline (absent algorithm or inline/base64): base64 of a JSON map of strings; an empty ciphertext is no secrets', async () => {
    assert.deepEqual(await decryptEnvelope({ ciphertext_b64: b64json({ a: '1' }) }, opts()), { a: '1' });
    assert.deepEqual(await decryptEnvelope({ ciphertext_b64: b64json({ a: '1' }), algorithm: 'inline/base64' }, opts()), { a: '1' });
    assert.deepEqual(await decryptEnvelope({ ciphertext_b64: '' }, opts()), {});
  });

  test('inline failures: not base64, not JSON, not an object, a value that is not a string', async () => {
    for (const ciphertext_b64 of ['%%%', Buffer.from('nope').toString('base64'), b64json([1]), b64json({ a: 1 })]) {
      await assert.rejects(decryptEnvelope({ ciphertext_b64 }, opts()), SecretDecryptError, ciphertext_b64);
    }
  });

  test('vault-transit: POST {VAULT_ADDR}/v1/{mount}/decrypt/{key_path} with the token file\'s token and the ciphertext', async () => {
    vault.seen.length = 0;
    assert.deepEqual(await decryptEnvelope(transit({ api_key: 'from-vault' }), { ...opts(), namespace: 'ns1' }), { api_key: 'from-vault' });
    assert.deepEqual(await decryptEnvelope(transit({ a: 'b' }, { mount: '/kv-transit/', algorithm: 'VAULT-TRANSIT/aes' }), { ...opts(), mount: 'ignored' }), { a: 'b' });
    assert.deepEqual(await decryptEnvelope(transit({ a: 'b' }), { ...opts(), mount: 'alga' }), { a: 'b' });
    assert.deepEqual(vault.seen.map((s) => [s.url, s.token, s.namespace]), [
      ['/v1/transit/decrypt/tenant-key', 'root-token', 'ns1'],
      ['/v1/kv-transit/decrypt/tenant-key', 'root-token', undefined],
      ['/v1/alga/decrypt/tenant-key', 'root-token', undefined],
    ]);
    assert.deepEqual(vault.seen[0]!.body, { ciphertext: transit({ api_key: 'from-vault' }).ciphertext_b64 });
  });

  test('vault-transit failures: no VAULT_ADDR, no key_path, unreadable or empty token file, a refusal, a bad plaintext', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '  \n');
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not-the-token');
    const cases: [unknown, object][] = [
      [transit({ a: 'b' }), { tokenFile }],
      [{ ...transit({ a: 'b' }), key_path: undefined }, opts()],
      [transit({ a: 'b' }), { addr: vaultAddr, tokenFile: join(dir, 'missing') }],
      [transit({ a: 'b' }), { addr: vaultAddr, tokenFile: empty }],
      [transit({ a: 'b' }), { addr: vaultAddr, tokenFile: wrong }],
      [{ ...transit({}), ciphertext_b64: 'garbage' }, opts()],
      [{ ...transit({}), ciphertext_b64: `vault:v1:${b64json({ a: 1 })}` }, opts()],
      [transit({ a: 'b' }), { addr: 'http://127.0.0.1:1', tokenFile }],
    ];
    for (const [env, o] of cases) await assert.rejects(decryptEnvelope(env as never, o as never), SecretDecryptError, JSON.stringify(env));
  });
});

describe('the cache', () => {
  test('30 s per install, version and ciphertext; a new version or ciphertext decrypts again; expires_at shortens it', async () => {
    let t = 1_000_000;
    const resolve = createSecretResolver({ addr: vaultAddr, tokenFile }, () => t);
    const owner = { tenantId: 't', extensionId: 'e', installId: 'i' };
    vault.seen.length = 0;
    const env = { ...transit({ a: 'b' }), version: 'v1' };
    await resolve(owner, env);
    await resolve(owner, env);
    assert.equal(vault.seen.length, 1);
    await resolve(owner, { ...env, version: 'v2' });
    assert.equal(vault.seen.length, 2);
    await resolve({ ...owner, installId: 'other' }, env);
    assert.equal(vault.seen.length, 3);
    t += 30_000;
    await resolve(owner, env);
    assert.equal(vault.seen.length, 4, 'expired after 30 s');
    const soon = { ...env, version: 'v3', expires_at: new Date(t + 5_000).toISOString() };
    await resolve(owner, soon);
    t += 5_000;
    await resolve(owner, soon);
    assert.equal(vault.seen.length, 6, 'expires_at came first');
  });
  test('the same ciphertext under another algorithm, key path or mount is decrypted again, never served from the cache', async () => {
    const resolve = createSecretResolver({ addr: vaultAddr, tokenFile }, () => 1_000_000);
    const owner = { tenantId: 't', extensionId: 'e', installId: 'k' };
    vault.seen.length = 0;
    const env = { ...transit({ a: 'b' }), version: 'v1' };
    assert.deepEqual(await resolve(owner, env), { a: 'b' });
    await resolve(owner, { ...env, key_path: 'another-key' });
    await resolve(owner, { ...env, mount: 'transit' });
    assert.equal(vault.seen.length, 3, 'each key path and mount asked Vault');
    // Inline with the very same ciphertext string: decoded as inline, not the transit answer.
    await assert.rejects(resolve(owner, { ...env, algorithm: 'inline/base64' }), SecretDecryptError);
  });
});

describe('through the runner', () => {
  let probe: ProbeRunner;
  before(async () => {
    probe = await startProbeRunner({ vault: { addr: vaultAddr, tokenFile } });
  });
  after(async () => probe.runner.close());

  const run = (envelope: unknown, calls: unknown[]) =>
    probe.runner.execute(
      { 'x-alga-tenant': 't1', 'x-alga-extension': 'e1' },
      {
        context: { tenant_id: 't1', extension_id: 'e1', install_id: '22222222-2222-4222-8222-222222222222', content_hash: probe.contentHash },
        http: { method: 'POST', path: '/probe', body_b64: Buffer.from(JSON.stringify({ calls })).toString('base64') },
        providers: ['cap:secrets.get'],
        secret_envelope: envelope as never,
      },
    );

  test('a vault-transit envelope reaches the guest\'s secrets.get', async () => {
    const out = await run(transit({ api_key: 'vault-value' }), [{ fn: 'secrets.get', args: ['api_key'] }, { fn: 'secrets.list-keys' }]);
    assert.equal(out.error, null);
    assert.deepEqual(JSON.parse(Buffer.from(out.body_b64!, 'base64').toString()).results, [{ ok: 'vault-value' }, { ok: ['api_key'] }]);
  });

  test('a bad envelope → production\'s {status: 500, error: "secret_decrypt_failed"}, the guest never runs', async () => {
    for (const env of [{ ciphertext_b64: '!!' }, { ciphertext_b64: b64json({ a: 1 }) }, { ...transit({ a: 'b' }), ciphertext_b64: 'vault:v2:x' }, { ...transit({ a: 'b' }), key_path: null }]) {
      assert.deepEqual(await run(env, [{ fn: 'secrets.list-keys' }]), { status: 500, headers: {}, body_b64: null, error: 'secret_decrypt_failed' }, JSON.stringify(env));
    }
  });
});
