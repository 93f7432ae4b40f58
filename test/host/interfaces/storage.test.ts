/** storage's mapping, as production's runner does it (docs/production-contract.md#storage). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeStorageValue, statusToStorageError } from '../../../src/host/interfaces/storage.js';
import type { StorageReply, StorageRequest } from '../../../src/host/ports.js';
import { callHost, executionContext } from '../support.js';

const S = 'alga:extension/storage';
const GRANT = { grant: ['cap:storage.kv' as const] };

function backend(reply: StorageReply | ((r: StorageRequest) => StorageReply)) {
  const calls: { installId: string; request: StorageRequest }[] = [];
  return {
    calls,
    storage: {
      call: async (installId: string, request: StorageRequest) => {
        calls.push({ installId, request });
        return typeof reply === 'function' ? reply(request) : reply;
      },
    },
  };
}
const bytes = (s: string) => new Uint8Array(Buffer.from(s));

describe('storage: gating', () => {
  test('denied without cap:storage.kv, or without (or with an empty) install id; nothing is sent', async () => {
    const b = backend({ status: 200, body: {} });
    for (const ctx of [executionContext({ services: { storage: b.storage } }), executionContext({ ...GRANT, installId: null, services: { storage: b.storage } })]) {
      for (const [fn, args] of [['get', ['n', 'k']], ['put', [{ namespace: 'n', key: 'k', value: bytes('') }]], ['delete', ['n', 'k']], ['listEntries', ['n', undefined]]] as const) {
        assert.deepEqual(await callHost(ctx, S, fn, ...args), { err: 'denied' }, fn);
      }
    }
    const empty = executionContext({ ...GRANT, services: { storage: b.storage } });
    empty.context.installId = '';
    assert.deepEqual(await callHost(empty, S, 'get', 'n', 'k'), { err: 'denied' });
    assert.equal(b.calls.length, 0);
  });

  test('no storage service (no base URL or token) → internal', async () => {
    assert.deepEqual(await callHost(executionContext(GRANT), S, 'get', 'n', 'k'), { err: 'internal' });
  });

  test('a backend that throws → internal, never a trap', async () => {
    const ctx = executionContext({ ...GRANT, services: { storage: { call: async () => { throw new Error('boom'); } } } });
    assert.deepEqual(await callHost(ctx, S, 'delete', 'n', 'k'), { err: 'internal' });
  });
});

describe('storage: requests sent', () => {
  test('put: value base64, metadata encoding, ifRevision only when the entry has a revision', async () => {
    const b = backend({ status: 200, body: { revision: 3 } });
    const ctx = executionContext({ ...GRANT, services: { storage: b.storage } });
    const out = await callHost(ctx, S, 'put', { namespace: 'n', key: 'k', value: new Uint8Array([0, 1, 255]) });
    await callHost(ctx, S, 'put', { namespace: 'n', key: 'k', value: new Uint8Array([]), revision: 2n });
    assert.deepEqual(b.calls.map((c) => c.request), [
      { operation: 'put', namespace: 'n', key: 'k', value: 'AAH/', metadata: { encoding: 'base64-bytes' } },
      { operation: 'put', namespace: 'n', key: 'k', value: '', metadata: { encoding: 'base64-bytes' }, ifRevision: 2 },
    ]);
    assert.deepEqual(out, { ok: { namespace: 'n', key: 'k', value: new Uint8Array([0, 1, 255]), revision: 3n } });
    assert.equal(b.calls[0]!.installId, ctx.context.installId);
  });

  test('get, delete and list bodies; list passes the guest\'s cursor through', async () => {
    const b = backend({ status: 200, body: { items: [] } });
    const ctx = executionContext({ ...GRANT, services: { storage: b.storage } });
    await callHost(ctx, S, 'get', 'n', 'k');
    await callHost(ctx, S, 'delete', 'n', 'k');
    await callHost(ctx, S, 'listEntries', 'n', undefined);
    await callHost(ctx, S, 'listEntries', 'n', 'last-key');
    assert.deepEqual(b.calls.map((c) => c.request), [
      { operation: 'get', namespace: 'n', key: 'k' },
      { operation: 'delete', namespace: 'n', key: 'k' },
      { operation: 'list', namespace: 'n', includeValues: true, includeMetadata: true },
      { operation: 'list', namespace: 'n', includeValues: true, includeMetadata: true, cursor: 'last-key' },
    ]);
  });
});

describe('storage: answers → WIT values', () => {
  test('status mapping: 401/403/429 denied, 404 missing, 409 conflict, anything else non-2xx internal', () => {
    const cases: [number, string][] = [[401, 'denied'], [403, 'denied'], [429, 'denied'], [404, 'missing'], [409, 'conflict'], [400, 'internal'], [413, 'internal'], [500, 'internal'], [501, 'internal'], [502, 'internal']];
    for (const [status, expected] of cases) assert.equal(statusToStorageError(status), expected, String(status));
  });

  test('every function maps a non-2xx answer the same way', async () => {
    for (const [status, expected] of [[429, 'denied'], [400, 'internal'], [404, 'missing']] as const) {
      const ctx = executionContext({ ...GRANT, services: { storage: backend({ status, body: { error: 'x' } }).storage } });
      assert.deepEqual(await callHost(ctx, S, 'put', { namespace: 'n', key: 'k', value: bytes('v') }), { err: expected });
      assert.deepEqual(await callHost(ctx, S, 'listEntries', 'n', undefined), { err: expected });
    }
  });

  test('delete: success false → conflict (a missing key); true or absent → ok', async () => {
    const call = async (body: unknown) => callHost(executionContext({ ...GRANT, services: { storage: backend({ status: 200, body }).storage } }), S, 'delete', 'n', 'k');
    assert.deepEqual(await call({ success: false }), { err: 'conflict' });
    assert.deepEqual(await call({ success: true }), { ok: undefined });
    assert.deepEqual(await call(null), { ok: undefined });
  });

  test('get: the answer\'s namespace/key (else the request\'s), revision, decoded value; a body that is no entry → internal', async () => {
    const call = async (body: unknown) => callHost(executionContext({ ...GRANT, services: { storage: backend({ status: 200, body }).storage } }), S, 'get', 'n', 'k');
    assert.deepEqual(await call({ value: 'aGk=', metadata: { encoding: 'base64-bytes' }, revision: 4 }), { ok: { namespace: 'n', key: 'k', value: bytes('hi'), revision: 4n } });
    assert.deepEqual(await call({ namespace: 'N', key: 'K', value: 'plain text!', revision: 1 }), { ok: { namespace: 'N', key: 'K', value: bytes('plain text!'), revision: 1n } });
    assert.deepEqual(await call({ value: 'not base64', metadata: { encoding: 'base64-bytes' } }), { err: 'internal' });
    assert.deepEqual(await call(null), { err: 'internal' });
    assert.deepEqual(await call([1]), { err: 'internal' });
  });

  test('list: every item decoded; one bad item fails the call; nextCursor is not the guest\'s business', async () => {
    const ok = { items: [{ namespace: 'n', key: 'a', value: 'YQ==', metadata: { encoding: 'base64-bytes' }, revision: 1 }, { namespace: 'n', key: 'b', value: { x: 1 }, revision: 2 }], nextCursor: 'abc' };
    const ctx = executionContext({ ...GRANT, services: { storage: backend({ status: 200, body: ok }).storage } });
    assert.deepEqual(await callHost(ctx, S, 'listEntries', 'n', undefined), {
      ok: [{ namespace: 'n', key: 'a', value: bytes('a'), revision: 1n }, { namespace: 'n', key: 'b', value: bytes('{"x":1}'), revision: 2n }],
    });
    const bad = executionContext({ ...GRANT, services: { storage: backend({ status: 200, body: { items: [ok.items[0], { value: 1 }] } }).storage } });
    assert.deepEqual(await callHost(bad, S, 'listEntries', 'n', undefined), { err: 'internal' });
  });

  test('decodeStorageValue: production\'s rules in order', () => {
    const text = (v: Uint8Array | undefined) => (v ? Buffer.from(v).toString() : undefined);
    assert.equal(text(decodeStorageValue('aGk=', { encoding: 'base64-bytes' })), 'hi');
    assert.equal(decodeStorageValue(5, { encoding: 'base64-bytes' }), undefined);
    assert.equal(text(decodeStorageValue({ _bytes_b64: 'aGk=' }, undefined)), 'hi');
    assert.equal(text(decodeStorageValue('aGk=', {})), 'hi');
    assert.equal(text(decodeStorageValue('aGk', {})), 'aGk', 'not padded: not base64, raw UTF-8');
    assert.equal(text(decodeStorageValue({ b: [1, 2], a: null }, undefined)), '{"a":null,"b":[1,2]}');
    assert.equal(text(decodeStorageValue(null, undefined)), 'null');
    assert.equal(text(decodeStorageValue(12.5, undefined)), '12.5');
  });
});
