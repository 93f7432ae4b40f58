/**
 * `alga-runner dev`'s hot swap keeps an install's state: a note put through kv-notes (storage) and
 * the install's secrets are still there after an edit of the handler is rebuilt and swapped in, and
 * the new code reads them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeInstallSecrets } from '../../src/server/secrets/install-secrets.js';
import { copyExtension, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startDev, type DevProcess } from '../support/dev-process.js';

let db: TestDatabase;
let work: string;
let dir: string;
let dev: DevProcess | undefined;
const NAME = 'com.alga.sample.kv-notes';

before(async () => {
  db = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'alga-watch-state-'));
  copyExtension('kv-notes', work);
  dir = join(work, 'components', 'kv-notes');
});
after(async () => {
  await dev?.stop();
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

test('storage and secrets survive a hot swap', async () => {
  dev = await startDev([dir], { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') });
  const base = `${dev.url}/api/ext/${NAME}`;
  const installId = /install ([0-9a-f-]{36})/.exec(dev.output())![1]!;
  const put = await fetch(`${base}/notes/n1`, { method: 'PUT', body: JSON.stringify({ text: 'kept across the swap' }) });
  assert.equal(put.status, 200, await put.clone().text());
  await writeInstallSecrets(db.pool, { installId, tenantId: 'local' }, { api_key: 'watch-secret' });
  const config = async () => (await (await fetch(`${base}/config`)).json()) as Record<string, unknown>;
  assert.deepEqual(await config(), { secretKeys: ['api_key'], apiKeySet: true, apiKeyError: null });

  const src = join(dir, 'src', 'index.ts');
  const original = readFileSync(src, 'utf8');
  const edited = original.replace('return json(200, { secretKeys:', "return json(200, { edited: true, secretKeys:");
  assert.notEqual(edited, original);
  const reloaded = dev.waitFor(/✔ reloaded [^\n]*swapped in [^\n]*\n/, 300_000);
  writeFileSync(src, edited);
  await reloaded;

  assert.deepEqual(await config(), { edited: true, secretKeys: ['api_key'], apiKeySet: true, apiKeyError: null }, 'the new code sees the secrets');
  const got = await fetch(`${base}/notes/n1`);
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), { id: 'n1', note: { text: 'kept across the swap' }, revision: 1 }, 'the note survives');
  const usage = await db.pool.query(`SELECT keys_count FROM ext_storage_usage WHERE extension_install_id = $1`, [installId]);
  assert.deepEqual(usage.rows.map((r) => Number(r.keys_count)), [1]);
  assert.deepEqual((await db.pool.query(`SELECT id FROM tenant_extension_install`)).rows.map((r) => r.id), [installId], 'the same install');

  assert.equal(await dev.stop(), 0);
  dev = undefined;
});
