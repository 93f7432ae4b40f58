/** `POST /api/internal/ext-storage/install/{installId}` over real HTTP (docs/production-contract.md#storage). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPlatform, type Platform } from '../../../src/platform.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InstalledExtension } from '../../support/fixtures.js';
import { callInternalRoute, type InternalCallOptions } from '../../support/internal-route.js';

const TOKEN = 'storage-route-test-token';
let db: TestDatabase;
let platform: Platform;
let dataDir: string;
let active: InstalledExtension;

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-storage-route-'));
  platform = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: TOKEN, logger: silentLogger });
  active = await insertInstall(db.pool);
});
after(async () => {
  await platform?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (installId: string, body: unknown, o?: InternalCallOptions) =>
  callInternalRoute(platform.url, '/api/internal/ext-storage/install/', TOKEN, installId, body, o);

describe('storage route', () => {
  test('missing or wrong x-runner-auth → 401 with production\'s body', async () => {
    for (const token of [null, 'wrong', `${TOKEN}x`]) {
      assert.deepEqual(await call(active.installId, { operation: 'get', namespace: 'n', key: 'k' }, { token }), {
        status: 401,
        body: { error: 'Invalid runner token', code: 'UNAUTHORIZED', details: null },
      });
    }
  });

  test('put, get, list, delete answer production\'s bodies and statuses', async () => {
    const put = await call(active.installId, { operation: 'put', namespace: 'n', key: 'k', value: 'aGk=', metadata: { encoding: 'base64-bytes' } });
    assert.equal(put.status, 200);
    assert.deepEqual(Object.keys(put.body).sort(), ['createdAt', 'key', 'namespace', 'revision', 'ttlExpiresAt', 'updatedAt']);
    assert.equal(put.body.revision, 1);
    const get = await call(active.installId, { operation: 'get', namespace: 'n', key: 'k' });
    assert.deepEqual([get.status, get.body.value, get.body.metadata, get.body.revision], [200, 'aGk=', { encoding: 'base64-bytes' }, 1]);
    assert.match(get.body.createdAt, /^\d{4}-\d\d-\d\dT.*Z$/);
    const list = await call(active.installId, { operation: 'list', namespace: 'n', includeValues: true, includeMetadata: true });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((i: { key: string; value: string }) => [i.key, i.value]), [['k', 'aGk=']]);
    assert.equal(list.body.nextCursor, null);
    assert.equal((await call(active.installId, { operation: 'put', namespace: 'n', key: 'k', value: 1, ifRevision: 9 })).status, 409);
    assert.deepEqual(await call(active.installId, { operation: 'delete', namespace: 'n', key: 'k' }), { status: 200, body: { success: true } });
    assert.equal((await call(active.installId, { operation: 'get', namespace: 'n', key: 'k' })).status, 404);
  });

  test('malformed bodies → 400, never 500', async () => {
    for (const raw of ['', 'not json', '{"operation":', '[', '"x"', 'null', '{}', '{"operation":"put","namespace":"n"}', '{"operation":"list","namespace":"n","limit":"5"}']) {
      const r = await call(active.installId, undefined, { raw });
      assert.equal(r.status, 400, raw);
      assert.equal(r.body.code, 'VALIDATION_FAILED', raw);
    }
  });

  test('install: unknown or not a UUID → 404; disabled → 401', async () => {
    const off = await insertInstall(db.pool, { enabled: false });
    const body = { operation: 'get', namespace: 'n', key: 'k' };
    assert.equal((await call('5b6f0d7e-0000-4000-8000-000000000000', body)).status, 404);
    assert.equal((await call('nope', body)).status, 404);
    assert.equal((await call('%E0%A4%A', body)).status, 404);
    assert.equal((await call(off.installId, body)).status, 401);
  });
});
