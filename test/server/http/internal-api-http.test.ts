/** `POST /api/internal/ext-scheduler/install/{installId}` over real HTTP (docs/production-contract.md#scheduler-route). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startPlatform, type Platform } from '../../../src/platform.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InstalledExtension } from '../../support/fixtures.js';
import { callInternalRoute, type InternalCallOptions } from '../../support/internal-route.js';

const TOKEN = 'internal-api-test-token';
let db: TestDatabase;
let platform: Platform;
let dataDir: string;
let active: InstalledExtension;
let disabled: InstalledExtension;

before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-internal-'));
  platform = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: TOKEN, logger: silentLogger });
  active = await insertInstall(db.pool);
  disabled = await insertInstall(db.pool, { enabled: false });
});
after(async () => {
  await platform?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (installId: string, body: unknown, o?: InternalCallOptions) =>
  callInternalRoute(platform.url, '/api/internal/ext-scheduler/install/', TOKEN, installId, body, o);

describe('internal API: auth', () => {
  test('missing or wrong x-runner-auth → 401 with production\'s body', async () => {
    const expected = { error: 'Invalid runner token', code: 'UNAUTHORIZED', details: null };
    for (const token of [null, 'wrong', `${TOKEN}x`, TOKEN.slice(1)]) {
      const r = await call(active.installId, { operation: 'list' }, { token });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, expected);
    }
  });

  test('a server without a token refuses every call', async () => {
    const other = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: undefined, logger: silentLogger });
    try {
      for (const token of [undefined, '']) {
        const res = await request(`${other.url}/api/internal/ext-scheduler/install/${active.installId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token !== undefined ? { 'x-runner-auth': token } : {}) },
          body: '{"operation":"list"}',
        });
        assert.equal(res.statusCode, 401);
        await res.body.dump();
      }
    } finally {
      await other.stop();
    }
  });
});

describe('internal API: well-known tokens in production', () => {
  test('NODE_ENV=production: a well-known default token refuses every call, even when presented', async () => {
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    let prod: Platform | undefined;
    try {
      prod = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: 'changeme', logger: silentLogger, execution: { enabled: false } });
    } finally {
      process.env.NODE_ENV = saved;
    }
    const dev = await startPlatform({ databaseUrl: db.url, dataDir, port: 0, runnerToken: 'changeme', logger: silentLogger, execution: { enabled: false } });
    try {
      const post = (base: string) =>
        request(`${base}/api/internal/ext-scheduler/install/${active.installId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-runner-auth': 'changeme' },
          body: '{"operation":"list"}',
        });
      const refused = await post(prod.url!);
      assert.equal(refused.statusCode, 401);
      assert.deepEqual(await refused.body.json(), { error: 'Invalid runner token', code: 'UNAUTHORIZED', details: null });
      const bundle = await request(`${prod.url}/api/internal/ext-bundles/sha256/${'0'.repeat(64)}`, { headers: { 'x-runner-auth': 'changeme' } });
      assert.equal(bundle.statusCode, 401);
      await bundle.body.dump();
      // Outside production the same token is accepted.
      const accepted = await post(dev.url!);
      assert.equal(accepted.statusCode, 200);
      await accepted.body.dump();
    } finally {
      await prod.stop();
      await dev.stop();
    }
  });
});

describe('internal API: bad input', () => {
  test('invalid JSON → 400 Invalid JSON body', async () => {
    const r = await call(active.installId, undefined, { raw: '{"operation":' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'Invalid JSON body', code: 'VALIDATION_FAILED', details: null });
  });

  test('a body over 1 MiB → 413, not a JSON error', async () => {
    const r = await call(active.installId, undefined, { raw: JSON.stringify({ operation: 'list', pad: 'x'.repeat(1024 * 1024 + 10) }) });
    assert.equal(r.status, 413);
    assert.equal(r.body.code, 'PAYLOAD_TOO_LARGE');
  });

  test('unknown operation → 400 Validation error with zod details', async () => {
    const r = await call(active.installId, { operation: 'explode' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'Validation error');
    assert.ok(r.body.details.fieldErrors.operation);
  });

  test('unknown, inactive or non-UUID install → 404 Install not found (never a 500)', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', disabled.installId, 'not-a-uuid', '%E2%9C%93']) {
      const r = await call(id, { operation: 'list' });
      assert.equal(r.status, 404, id);
      assert.deepEqual(r.body, { error: 'Install not found', code: 'NOT_FOUND', details: null });
    }
  });

  test('malformed schedule id → 400', async () => {
    const r = await call(active.installId, { operation: 'get', scheduleId: 'nope' });
    assert.equal(r.status, 400);
  });
});

describe('internal API: operations', () => {
  test('list → 200 {schedules: []}; getEndpoints → 200 with schedulable flags', async () => {
    const list = await call(active.installId, { operation: 'list' });
    assert.deepEqual(list, { status: 200, body: { schedules: [] } });
    const eps = await call(active.installId, { operation: 'getEndpoints' });
    assert.equal(eps.status, 200);
    const byKey = Object.fromEntries(eps.body.endpoints.map((e: any) => [`${e.method} ${e.path}`, e.schedulable]));
    assert.equal(byKey['GET /status'], true);
    assert.equal(byKey['PUT /items'], false);
    assert.equal(byKey['GET /items/:id'], false);
  });

  test('create → 201 {success, scheduleId}; a rejected create → 400 with error and fieldErrors', async () => {
    const ok = await call(active.installId, { operation: 'create', endpoint: '/status', cron: '*/5 * * * *' });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.success, true);
    assert.match(ok.body.scheduleId, /^[0-9a-f-]{36}$/);
    const bad = await call(active.installId, { operation: 'create', endpoint: '/status', cron: '* * * * *' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.success, false);
    assert.equal(bad.body.fieldErrors.cron, 'Cron too frequent (minimum interval is 5 minutes)');
    const get = await call(active.installId, { operation: 'get', scheduleId: ok.body.scheduleId });
    assert.equal(get.status, 200);
    assert.equal(get.body.schedule.endpointPath, '/status');
  });

  test('the 11th mutation within a minute → 429 RATE_LIMITED', async () => {
    const inst = await insertInstall(db.pool);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call(inst.installId, { operation: 'delete', scheduleId: '00000000-0000-4000-8000-000000000000' })).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(400));
    const last = await call(inst.installId, { operation: 'list' });
    assert.equal(last.status, 200, 'list is not rate limited');
    const r = await call(inst.installId, { operation: 'create', endpoint: '/status', cron: '0 * * * *' });
    assert.deepEqual(r, { status: 429, body: { error: 'Too many requests, please try again later', code: 'RATE_LIMITED', details: null } });
  });
});

describe('internal API: component bytes for runners', () => {
  test('401 without the token, 400 for a malformed hash, 404 for an unknown one', async () => {
    const base = `${platform.url}/api/internal/ext-bundles/sha256/`;
    const noAuth = await request(`${base}${'a'.repeat(64)}`);
    assert.equal(noAuth.statusCode, 401);
    await noAuth.body.dump();
    const bad = await request(`${base}xyz`, { headers: { 'x-runner-auth': TOKEN } });
    assert.equal(bad.statusCode, 400);
    await bad.body.dump();
    const missing = await request(`${base}${'a'.repeat(64)}`, { headers: { 'x-runner-auth': TOKEN } });
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
  });
});
