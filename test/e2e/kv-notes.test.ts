/**
 * The kv-notes extension (components/kv-notes, written on the SDK's storage and secrets wrappers)
 * through the gateway, in both shapes: optimistic writes with revisions, paging through a namespace
 * larger than a page, deletes, and secrets read without their values leaving the guest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeInstallSecrets } from '../../src/server/secrets/install-secrets.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const EXT = 'com.alga.sample.kv-notes';

for (const shape of ['in-process', 'split'] as const) describe(`kv-notes, ${shape}`, () => {
  let tp: TestPlatform;
  let installId: string;
  before(async () => {
    tp = await startTestPlatform({ shape });
    ({ installId } = await tp.install('kv-notes'));
  });
  after(async () => tp?.stop());

  const put = async (id: string, text: string, revision?: number) => {
    const r = await tp.call('PUT', EXT, `/notes/${id}`, { body: revision === undefined ? { text } : { text, revision } });
    return { status: r.status, json: r.json };
  };

  test('PUT creates at revision 1; with the current revision it writes, with a stale one it is 409', async () => {
    assert.deepEqual(await put('n1', 'hello'), { status: 200, json: { id: 'n1', revision: 1 } });
    assert.deepEqual(await put('n1', 'edited', 1), { status: 200, json: { id: 'n1', revision: 2 } });
    assert.deepEqual(await put('n1', 'lost update', 1), { status: 409, json: { error: 'conflict' } });
    const got = await tp.call('GET', EXT, '/notes/n1');
    assert.deepEqual(got.json, { id: 'n1', note: { text: 'edited' }, revision: 2 });
    assert.equal((await tp.call('GET', EXT, '/notes/none')).status, 404);
  });

  test('GET /notes reads every page of the namespace (60 notes, pages of 25), each note once, in order', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    for (const id of ids) assert.equal((await put(id, `text ${id}`)).status, 200);
    const all = await tp.call('GET', EXT, '/notes');
    assert.equal(all.status, 200);
    const listed = (all.json.notes as { id: string; note: { text: string } }[]).filter((n) => n.id.startsWith('p'));
    assert.deepEqual(listed.map((n) => n.id), ids);
    assert.ok(listed.every((n) => n.note.text === `text ${n.id}`));
  });

  test('DELETE removes a note; deleting it again is 404 (the contract\'s conflict)', async () => {
    await put('gone', 'x');
    assert.equal((await tp.call('DELETE', EXT, '/notes/gone')).status, 204);
    assert.equal((await tp.call('DELETE', EXT, '/notes/gone')).status, 404);
    assert.equal((await tp.call('GET', EXT, '/notes/gone')).status, 404);
  });

  test('/config sees the install\'s secrets by name', async () => {
    assert.deepEqual((await tp.call('GET', EXT, '/config')).json, { secretKeys: [], apiKeySet: false, apiKeyError: 'missing' });
    await writeInstallSecrets(tp.platform.pool, { installId, tenantId: tp.platform.tenantId }, { api_key: 'kv-secret', region: 'eu' });
    const r = await tp.call('GET', EXT, '/config');
    assert.deepEqual(r.json, { secretKeys: ['api_key', 'region'], apiKeySet: true, apiKeyError: null });
    assert.ok(!r.text.includes('kv-secret'));
  });

  test('without cap:storage.kv the SDK answers denied → 403', async () => {
    await tp.install('kv-notes', { tenantId: 'no-kv', grant: ['cap:log.emit'] });
    const r = await tp.call('GET', EXT, '/notes/n1', { tenant: 'no-kv' });
    assert.deepEqual([r.status, r.json], [403, { error: 'denied' }]);
  });
});
