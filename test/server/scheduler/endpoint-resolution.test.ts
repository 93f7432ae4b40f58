import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseEndpointSelector, resolveScheduleEndpoint } from '../../../src/server/scheduler/endpoint-resolution.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

test('selector: "METHOD /path", "/path" and "path" forms', () => {
  assert.deepEqual(parseEndpointSelector(' post  //sync '), { method: 'POST', path: '/sync' });
  assert.deepEqual(parseEndpointSelector('/sync'), { method: null, path: '/sync' });
  assert.deepEqual(parseEndpointSelector('sync'), { method: null, path: '/sync' });
  assert.equal(parseEndpointSelector('/sy\0nc'), null, 'NUL names no endpoint');
});

test('schedulable: GET and POST without path parameters only', async () => {
  const isSchedulable = async (method: string, path: string) =>
    (await db.pool.query<{ ok: boolean }>('SELECT alga_endpoint_schedulable($1, $2) AS ok', [method, path])).rows[0].ok;
  assert.equal(await isSchedulable('GET', '/a'), true);
  assert.equal(await isSchedulable('post', '/a'), true);
  assert.equal(await isSchedulable('PUT', '/a'), false);
  assert.equal(await isSchedulable('GET', '/a/:id'), false);
  assert.equal(await isSchedulable('GET', '/a:b'), false, 'any colon counts');
  assert.equal(await isSchedulable('POST', '/a/{id}'), false);
  assert.equal(await isSchedulable('GET', '/a/}'), false);
});

// Production takes whichever row Postgres returns first (docs/production-contract.md#scheduler-endpoints).
test('resolve: a bare path with both GET and POST always picks GET; "POST /path" picks POST', async () => {
  const ctx = await insertInstall(db.pool, {
    endpoints: [
      { method: 'POST', path: '/both', handler: 'p' },
      { method: 'GET', path: '/both', handler: 'g' },
    ],
  });
  for (const sel of ['/both', 'both', ' both ']) assert.equal((await resolveScheduleEndpoint(db.pool, ctx.versionId, sel))?.method, 'GET');
  assert.equal((await resolveScheduleEndpoint(db.pool, ctx.versionId, 'POST /both'))?.method, 'POST');
  assert.equal((await resolveScheduleEndpoint(db.pool, ctx.versionId, 'get both'))?.method, 'GET');
});

test('resolve: matching is case-sensitive; an unknown path, PUT or another version gives null', async () => {
  const ctx = await insertInstall(db.pool);
  const other = await insertInstall(db.pool, { endpoints: [{ method: 'GET', path: '/only-here', handler: 'h' }] });
  assert.equal(await resolveScheduleEndpoint(db.pool, ctx.versionId, '/Status'), null);
  assert.equal(await resolveScheduleEndpoint(db.pool, ctx.versionId, 'PUT /items'), null);
  assert.equal(await resolveScheduleEndpoint(db.pool, ctx.versionId, '/only-here'), null);
  assert.ok(await resolveScheduleEndpoint(db.pool, other.versionId, '/only-here'));
});

test('resolve: a row stored without its leading slash still matches', async () => {
  const ctx = await insertInstall(db.pool, { endpoints: [] });
  await db.pool.query(`INSERT INTO extension_api_endpoint (version_id, method, path, handler) VALUES ($1, 'GET', 'legacy', 'h')`, [ctx.versionId]);
  assert.equal((await resolveScheduleEndpoint(db.pool, ctx.versionId, '/legacy'))?.path, 'legacy');
});

test('resolve: on a miss the version is materialized and the lookup retried once', async () => {
  const ctx = await insertInstall(db.pool, { materialize: false, endpoints: [{ method: 'post', path: 'late', handler: 'h' }] });
  const hit = await resolveScheduleEndpoint(db.pool, ctx.versionId, 'late');
  assert.deepEqual({ method: hit?.method, path: hit?.path }, { method: 'POST', path: '/late' });
});
