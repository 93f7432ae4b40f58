import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { materializeEndpoints, normalizeEndpointPath, parseApiEndpoints } from '../../../src/server/registry/endpoints.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

describe('parseApiEndpoints', () => {
  test('normalizeEndpointPath: trims, adds a leading slash, collapses repeated slashes', () => {
    assert.equal(normalizeEndpointPath(' sync '), '/sync');
    assert.equal(normalizeEndpointPath('//a///b//'), '/a/b/');
    assert.equal(normalizeEndpointPath('/Items'), '/Items', 'case kept');
  });

  test('parseApiEndpoints: uppercases the method, normalizes the path, stringifies the handler', () => {
    assert.deepEqual(parseApiEndpoints([{ method: 'post', path: 'a//b', handler: 42, schedulable: true }]), [
      { method: 'POST', path: '/a/b', handler: '42' },
    ]);
  });

  test('parseApiEndpoints: accepts JSON text; unparsable text and non-arrays give []', () => {
    assert.deepEqual(parseApiEndpoints('[{"method":"get","path":"/x","handler":"h"}]'), [{ method: 'GET', path: '/x', handler: 'h' }]);
    assert.deepEqual(parseApiEndpoints('{not json'), []);
    assert.deepEqual(parseApiEndpoints({ endpoints: [] }), []);
    assert.deepEqual(parseApiEndpoints(null), []);
  });

  test('parseApiEndpoints: skips non-objects and drops entries with an empty method, path or handler', () => {
    const parsed = parseApiEndpoints([
      'GET /x',
      null,
      [1],
      { method: '', path: '/a', handler: 'h' },
      { method: 'GET', path: '  ', handler: 'h' },
      { method: 'GET', path: '/b', handler: '' },
      { method: 'GET', path: '/c' },
      { method: 'GET', path: '/ok', handler: 'h' },
    ]);
    assert.deepEqual(parsed, [{ method: 'GET', path: '/ok', handler: 'h' }]);
  });

  test('parseApiEndpoints: duplicates by "METHOD path" collapse, the last handler winning', () => {
    const parsed = parseApiEndpoints([
      { method: 'GET', path: '/a', handler: 'first' },
      { method: 'get', path: 'a', handler: 'second' },
      { method: 'POST', path: '/a', handler: 'post' },
    ]);
    assert.deepEqual(parsed, [
      { method: 'GET', path: '/a', handler: 'second' },
      { method: 'POST', path: '/a', handler: 'post' },
    ]);
  });
});

describe('materializeEndpoints', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  const rows = async (versionId: string) =>
    (await db.pool.query(`SELECT id, method, path, handler FROM extension_api_endpoint WHERE version_id = $1 ORDER BY method, path`, [versionId])).rows;

  test('materializeEndpoints: writes uppercase methods and leading-slash paths, excluding invalid entries (production-contract.md#endpoint-materialization)', async () => {
    const inst = await insertInstall(db.pool, {
      materialize: false,
      endpoints: [
        { method: 'get', path: 'status', handler: 'status' },
        { method: 'post', path: '/sync', handler: 'sync' },
        { method: '', path: '/bad', handler: 'x' },
      ],
    });
    assert.equal(await materializeEndpoints(db.pool, inst.versionId), 2);
    assert.deepEqual(
      (await rows(inst.versionId)).map(({ method, path, handler }) => ({ method, path, handler })),
      [
        { method: 'GET', path: '/status', handler: 'status' },
        { method: 'POST', path: '/sync', handler: 'sync' },
      ],
    );
  });

  test('materializeEndpoints: re-running keeps ids and updates the handler', async () => {
    const inst = await insertInstall(db.pool, { materialize: false, endpoints: [{ method: 'GET', path: '/a', handler: 'v1' }] });
    await materializeEndpoints(db.pool, inst.versionId);
    const [first] = await rows(inst.versionId);
    await db.pool.query(`UPDATE extension_version SET api_endpoints = $2::jsonb WHERE id = $1`, [
      inst.versionId,
      JSON.stringify([{ method: 'GET', path: '/a', handler: 'v2' }]),
    ]);
    assert.equal(await materializeEndpoints(db.pool, inst.versionId), 1);
    assert.equal(await materializeEndpoints(db.pool, inst.versionId), 1);
    const again = await rows(inst.versionId);
    assert.equal(again.length, 1);
    assert.equal(again[0].id, first.id);
    assert.equal(again[0].handler, 'v2');
  });

  test('materializeEndpoints: reads api_endpoints stored as a JSON string; an unknown version gives 0', async () => {
    const inst = await insertInstall(db.pool, { materialize: false, endpoints: [] });
    await db.pool.query(`UPDATE extension_version SET api_endpoints = to_jsonb($2::text) WHERE id = $1`, [
      inst.versionId,
      JSON.stringify([{ method: 'post', path: 'run', handler: 'run' }]),
    ]);
    assert.equal(await materializeEndpoints(db.pool, inst.versionId), 1);
    assert.deepEqual((await rows(inst.versionId)).map((r) => `${r.method} ${r.path}`), ['POST /run']);
    assert.equal(await materializeEndpoints(db.pool, '00000000-0000-4000-8000-000000000000'), 0);
  });

  test('materializeEndpoints: concurrent runs for one version leave one row per endpoint', async () => {
    const inst = await insertInstall(db.pool, { materialize: false });
    await Promise.all(Array.from({ length: 8 }, () => materializeEndpoints(db.pool, inst.versionId)));
    assert.equal((await rows(inst.versionId)).length, 6);
  });
});
