/** The storage route's core on real Postgres (docs/production-contract.md#storage): revisions,
 * conflicts, limits and quotas at their edges, TTL with a manual clock, paging, isolation, atomicity. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { createManualClock } from '../../../src/server/execution/clock.js';
import { handleStorageOperation, type StorageOperationDeps } from '../../../src/server/internal-api/storage-operation.js';
import { createStorageService, cursorKey, DEFAULT_STORAGE_QUOTA } from '../../../src/server/storage/service.js';
import { encodeStorageCursor } from '../../../src/shared/storage-api.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall, type InstalledExtension } from '../../support/fixtures.js';

let db: TestDatabase;
const clock = createManualClock('2026-06-01T00:00:00Z');
let deps: StorageOperationDeps;
before(async () => {
  db = await createTestDatabase();
  deps = { service: createStorageService({ pool: db.pool, now: () => clock.now() }) };
});
after(async () => db.drop());

type Reply = { status: number; body: any };
const op = (installId: string, body: unknown, signal?: AbortSignal) => handleStorageOperation(deps, installId, body, signal) as Promise<Reply>;
const put = (i: InstalledExtension, namespace: string, key: string, value: unknown, extra: Record<string, unknown> = {}) =>
  op(i.installId, { operation: 'put', namespace, key, value, ...extra });
const get = (i: InstalledExtension, namespace: string, key: string) => op(i.installId, { operation: 'get', namespace, key });
const usage = async (i: InstalledExtension) =>
  (await db.pool.query(`SELECT bytes_used::int AS bytes, keys_count AS keys, namespaces_count AS namespaces FROM ext_storage_usage WHERE extension_install_id = $1`, [i.installId])).rows[0];

describe('revisions and conflicts', () => {
  test('revision 1 on insert, +1 on each put; get answers the value and revision', async () => {
    const i = await insertInstall(db.pool);
    const a = await put(i, 'ns', 'k', { n: 1 });
    assert.equal(a.status, 200);
    assert.deepEqual({ ...a.body, createdAt: undefined, updatedAt: undefined }, { namespace: 'ns', key: 'k', revision: 1, ttlExpiresAt: null, createdAt: undefined, updatedAt: undefined });
    assert.equal((await put(i, 'ns', 'k', { n: 2 })).body.revision, 2);
    const g = await get(i, 'ns', 'k');
    assert.equal(g.status, 200);
    assert.deepEqual(g.body.value, { n: 2 });
    assert.equal(g.body.revision, 2);
    assert.deepEqual(g.body.metadata, {});
  });

  test('ifRevision: equal → written; different, or the key absent → 409 REVISION_MISMATCH and nothing written', async () => {
    const i = await insertInstall(db.pool);
    await put(i, 'ns', 'k', 'v1');
    assert.equal((await put(i, 'ns', 'k', 'v2', { ifRevision: 1 })).body.revision, 2);
    const stale = await put(i, 'ns', 'k', 'v3', { ifRevision: 1 });
    assert.deepEqual(stale, { status: 409, body: { error: 'ifRevision did not match stored revision', code: 'REVISION_MISMATCH', details: null } });
    assert.equal((await put(i, 'ns', 'absent', 'x', { ifRevision: 0 })).status, 409, 'no "create only if absent"');
    assert.equal((await get(i, 'ns', 'absent')).status, 404);
    assert.equal((await get(i, 'ns', 'k')).body.value, 'v2');
    assert.equal((await op(i.installId, { operation: 'get', namespace: 'ns', key: 'k', ifRevision: 1 })).status, 409);
    assert.equal((await op(i.installId, { operation: 'delete', namespace: 'ns', key: 'k', ifRevision: 1 })).status, 409);
  });

  test('50 concurrent puts of one key with the same ifRevision: exactly one succeeds, 49 conflict, revision +1', async () => {
    const i = await insertInstall(db.pool);
    await put(i, 'ns', 'hot', 0);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, n) => put(i, 'ns', 'hot', n + 1, { ifRevision: 1 })));
    assert.equal(replies.filter((r) => r.status === 200).length, 1);
    assert.equal(replies.filter((r) => r.status === 409).length, 49);
    const winner = replies.findIndex((r) => r.status === 200) + 1;
    const g = await get(i, 'ns', 'hot');
    assert.equal(g.body.revision, 2);
    assert.equal(g.body.value, winner);
  });

  test('delete: a missing key answers success:false; an existing one true, and it is gone', async () => {
    const i = await insertInstall(db.pool);
    assert.deepEqual(await op(i.installId, { operation: 'delete', namespace: 'ns', key: 'k' }), { status: 200, body: { success: false } });
    await put(i, 'ns', 'k', 1);
    assert.deepEqual(await op(i.installId, { operation: 'delete', namespace: 'ns', key: 'k' }), { status: 200, body: { success: true } });
    assert.equal((await get(i, 'ns', 'k')).status, 404);
    assert.deepEqual(await usage(i), { bytes: 0, keys: 0, namespaces: 0 });
  });

  test('get of a missing key → 404 NOT_FOUND', async () => {
    const i = await insertInstall(db.pool);
    assert.deepEqual(await get(i, 'ns', 'nope'), { status: 404, body: { error: 'record not found', code: 'NOT_FOUND', details: null } });
  });
});

describe('limits and quotas at their edges (exactly at the limit passes, one over fails)', () => {
  const isValidation = (r: Reply) => r.status === 400 && r.body.code === 'VALIDATION_FAILED';

  test('namespace 128 / 129 characters, key 256 / 257, key with "/"', async () => {
    const i = await insertInstall(db.pool);
    assert.equal((await put(i, 'n'.repeat(128), 'k', 1)).status, 200);
    assert.ok(isValidation(await put(i, 'n'.repeat(129), 'k', 1)));
    assert.equal((await put(i, 'ns', 'k'.repeat(256), 1)).status, 200);
    assert.ok(isValidation(await put(i, 'ns', 'k'.repeat(257), 1)));
    assert.deepEqual(await put(i, 'ns', 'a/b', 1), { status: 400, body: { error: 'key must be 1-256 characters and must not contain "/"', code: 'VALIDATION_FAILED', details: null } });
  });

  test('value 65 536 bytes of JSON / 65 537 → 400 LIMIT_EXCEEDED; metadata 4 096 / 4 097', async () => {
    const i = await insertInstall(db.pool);
    assert.equal((await put(i, 'ns', 'v', 'x'.repeat(65_534))).status, 200); // "…" is 65 536 bytes
    assert.deepEqual(await put(i, 'ns', 'v', 'x'.repeat(65_535)), { status: 400, body: { error: 'value exceeds max size of 65536 bytes', code: 'LIMIT_EXCEEDED', details: null } });
    assert.equal((await put(i, 'ns', 'm', 1, { metadata: { a: 'x'.repeat(4088) } })).status, 200); // {"a":"…"} is 4 096 bytes
    assert.equal((await put(i, 'ns', 'm', 1, { metadata: { a: 'x'.repeat(4089) } })).body.code, 'LIMIT_EXCEEDED');
    assert.equal((await get(i, 'ns', 'v')).body.value.length, 65_534, 'the refused put left the stored value alone');
  });

  test('TTL 60 s – 30 days', async () => {
    const i = await insertInstall(db.pool);
    assert.equal((await put(i, 'ns', 'a', 1, { ttlSeconds: 60 })).status, 200);
    assert.equal((await put(i, 'ns', 'a', 1, { ttlSeconds: 59 })).body.code, 'LIMIT_EXCEEDED');
    assert.equal((await put(i, 'ns', 'a', 1, { ttlSeconds: 2_592_000 })).status, 200);
    assert.equal((await put(i, 'ns', 'a', 1, { ttlSeconds: 2_592_001 })).body.code, 'LIMIT_EXCEEDED');
  });

  test('5 120 keys per namespace: the 5 120th is written, the 5 121st → 429 QUOTA_EXCEEDED; overwriting at the limit still works', async () => {
    const i = await insertInstall(db.pool);
    await db.pool.query(
      `INSERT INTO ext_storage_records (tenant, extension_install_id, namespace, key, value, value_size_bytes)
       SELECT $1, $2, 'full', 'k' || lpad(g::text, 5, '0'), '1', 1 FROM generate_series(1, $3) g`,
      [i.tenantId, i.installId, DEFAULT_STORAGE_QUOTA.maxKeysPerNamespace - 1],
    );
    await db.pool.query(`SELECT alga_storage_refresh_usage($1, $2)`, [i.tenantId, i.installId]);
    assert.equal((await put(i, 'full', 'last', 1)).status, 200);
    assert.deepEqual(await put(i, 'full', 'one-more', 1), { status: 429, body: { error: 'namespace full exceeded key quota', code: 'QUOTA_EXCEEDED', details: null } });
    assert.equal((await put(i, 'full', 'last', 2)).status, 200);
    assert.equal((await put(i, 'other', 'k', 1)).status, 200, 'another namespace has its own count');
    assert.equal((await usage(i)).keys, 5121);
  });

  test('32 namespaces: the 32nd is created, the 33rd → 429; a deleted namespace frees its place', async () => {
    const i = await insertInstall(db.pool);
    for (let n = 1; n <= 32; n++) assert.equal((await put(i, `ns${n}`, 'k', n)).status, 200);
    assert.deepEqual(await put(i, 'ns33', 'k', 1), { status: 429, body: { error: 'namespace quota exceeded', code: 'QUOTA_EXCEEDED', details: null } });
    assert.equal((await put(i, 'ns1', 'k2', 1)).status, 200, 'an existing namespace takes new keys');
    await op(i.installId, { operation: 'delete', namespace: 'ns2', key: 'k' });
    assert.equal((await put(i, 'ns33', 'k', 1)).status, 200);
    assert.equal((await usage(i)).namespaces, 32);
  });

  test('256 MiB in all: a put reaching exactly the total passes, one byte more → 429 with the figures', async () => {
    const i = await insertInstall(db.pool);
    assert.equal((await put(i, 'ns', 'seed', 'x')).status, 200); // "x" + {} = 5 bytes
    const total = DEFAULT_STORAGE_QUOTA.totalBytes;
    await db.pool.query(`UPDATE ext_storage_usage SET bytes_used = $3 WHERE tenant = $1 AND extension_install_id = $2`, [i.tenantId, i.installId, total - 5]);
    assert.equal((await put(i, 'ns', 'fits', 'x')).status, 200);
    const over = await put(i, 'ns', 'over', 'x');
    assert.deepEqual(over, { status: 429, body: { error: 'total storage quota exceeded', code: 'QUOTA_EXCEEDED', details: { limit: total, attempted: total + 5 } } });
    assert.equal((await put(i, 'ns', 'fits', 'y')).status, 200, 'replacing a value of the same size adds nothing');
  });

  test('bulkPut: 20 items pass, 21 → 400 LIMIT_EXCEEDED; duplicate keys → 400; one bad item writes nothing', async () => {
    const i = await insertInstall(db.pool);
    const items = (n: number) => Array.from({ length: n }, (_, k) => ({ key: `b${k}`, value: k }));
    const ok = await op(i.installId, { operation: 'bulkPut', namespace: 'bulk', items: items(20) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.items.length, 20);
    assert.deepEqual(ok.body.items[3], { key: 'b3', revision: 1, ttlExpiresAt: null });
    assert.deepEqual(await op(i.installId, { operation: 'bulkPut', namespace: 'bulk', items: items(21) }), { status: 400, body: { error: 'bulk operations limited to 20 items', code: 'LIMIT_EXCEEDED', details: null } });
    assert.equal((await op(i.installId, { operation: 'bulkPut', namespace: 'bulk', items: [{ key: 'd', value: 1 }, { key: 'd', value: 2 }] })).body.error, 'duplicate key in bulk payload: d');
    const mixed = await op(i.installId, { operation: 'bulkPut', namespace: 'bulk', items: [{ key: 'new1', value: 1 }, { key: 'b0', value: 9, ifRevision: 7 }] });
    assert.equal(mixed.status, 409);
    assert.equal((await get(i, 'bulk', 'new1')).status, 404, 'the whole bulk write was refused');
  });
});

describe('TTL with the controllable clock', () => {
  test('a row is answered until its expiry and gone at it; its usage is released; a put without TTL clears one', async () => {
    const i = await insertInstall(db.pool);
    const start = clock.now();
    try {
      const p = await put(i, 'ttl', 'short', 'v', { ttlSeconds: 60 });
      assert.equal(p.body.ttlExpiresAt, new Date(start.getTime() + 60_000).toISOString());
      await put(i, 'ttl', 'cleared', 'v', { ttlSeconds: 60 });
      await put(i, 'ttl', 'cleared', 'w');
      clock.advance(59_999);
      assert.equal((await get(i, 'ttl', 'short')).status, 200);
      clock.advance(1);
      assert.equal((await get(i, 'ttl', 'short')).status, 404);
      assert.equal((await get(i, 'ttl', 'cleared')).body.value, 'w');
      const left = await usage(i);
      assert.deepEqual({ keys: left.keys, namespaces: left.namespaces }, { keys: 1, namespaces: 1 });
      const rows = await db.pool.query(`SELECT key FROM ext_storage_records WHERE extension_install_id = $1`, [i.installId]);
      assert.deepEqual(rows.rows.map((r) => r.key), ['cleared'], 'the expired row was removed, not just hidden');
    } finally {
      clock.set(start);
    }
  });
});

describe('list', () => {
  test('1 000 keys: following nextCursor, and following the last key received, each key comes exactly once, in order', async () => {
    const i = await insertInstall(db.pool);
    const keys = Array.from({ length: 1000 }, (_, n) => `key-${String(n).padStart(4, '0')}`);
    for (let n = 0; n < keys.length; n += 20) {
      const r = await op(i.installId, { operation: 'bulkPut', namespace: 'page', items: keys.slice(n, n + 20).map((key) => ({ key, value: key })) });
      assert.equal(r.status, 200);
    }
    const walk = async (next: (page: Reply) => string | undefined, limit?: number) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 2000; pages++) {
        const page = await op(i.installId, { operation: 'list', namespace: 'page', cursor, limit, includeValues: true });
        assert.equal(page.status, 200);
        seen.push(...page.body.items.map((it: { key: string; value: string }) => (assert.equal(it.value, it.key), it.key)));
        cursor = next(page);
        if (cursor === undefined) return seen;
      }
      throw new Error('paging did not end');
    };
    assert.deepEqual(await walk((p) => p.body.nextCursor ?? undefined, 100), keys);
    // The WIT gives the guest no cursor: it passes the last key it received (default page of 25).
    assert.deepEqual(await walk((p) => (p.body.items.length ? p.body.items.at(-1).key : undefined)), keys);
  });

  test('the next page starts right after the last row returned (docs/differences.md#storage-paging: production skips that row)', async () => {
    const i = await insertInstall(db.pool);
    await op(i.installId, { operation: 'bulkPut', namespace: 'p', items: ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, value: 1 })) });
    const first = await op(i.installId, { operation: 'list', namespace: 'p', limit: 2 });
    assert.deepEqual(first.body.items.map((x: { key: string }) => x.key), ['a', 'b']);
    const second = await op(i.installId, { operation: 'list', namespace: 'p', limit: 2, cursor: first.body.nextCursor });
    // Production's nextCursor names "c" and its next page is key > "c": ["d", "e"].
    assert.deepEqual(second.body.items.map((x: { key: string }) => x.key), ['c', 'd']);
    // A cursor in production's form is read as such, whoever made it.
    const prod = await op(i.installId, { operation: 'list', namespace: 'p', cursor: encodeStorageCursor('c') });
    assert.deepEqual(prod.body.items.map((x: { key: string }) => x.key), ['d', 'e']);
    assert.equal(prod.body.nextCursor, null);
  });

  test('keyPrefix is a literal prefix (LIKE wildcards escaped); values and metadata only when asked', async () => {
    const i = await insertInstall(db.pool);
    for (const key of ['a%1', 'a%2', 'ab', 'a_x', 'b']) await put(i, 'pre', key, key, { metadata: { m: 1 } });
    const r = await op(i.installId, { operation: 'list', namespace: 'pre', keyPrefix: 'a%' });
    assert.deepEqual(r.body.items.map((x: { key: string }) => x.key), ['a%1', 'a%2']);
    assert.ok(!('value' in r.body.items[0]) && !('metadata' in r.body.items[0]));
    const full = await op(i.installId, { operation: 'list', namespace: 'pre', keyPrefix: 'a_', includeValues: true, includeMetadata: true });
    assert.deepEqual(full.body.items.map((x: { key: string; value: string; metadata: unknown }) => [x.key, x.value, x.metadata]), [['a_x', 'a_x', { m: 1 }]]);
  });

  test('cursorKey: production\'s form decodes to its key; anything else is the last key seen', () => {
    assert.equal(cursorKey(encodeStorageCursor('k-1')), 'k-1');
    assert.equal(cursorKey('k-1'), 'k-1');
    assert.equal(cursorKey('eyJub3RrZXkiOjF9'), 'eyJub3RrZXkiOjF9'); // {"notkey":1}
    assert.equal(cursorKey(''), undefined);
  });
});

describe('isolation', () => {
  test('two installs of one tenant, and two tenants, never see each other\'s keys', async () => {
    const a = await insertInstall(db.pool, { tenantId: 'tenant-a' });
    const b = await insertInstall(db.pool, { tenantId: 'tenant-a' });
    const c = await insertInstall(db.pool, { tenantId: 'tenant-c' });
    for (const [inst, v] of [[a, 'A'], [b, 'B'], [c, 'C']] as const) await put(inst, 'shared', 'same-key', v);
    await put(a, 'shared', 'only-a', 1);
    for (const [inst, v] of [[a, 'A'], [b, 'B'], [c, 'C']] as const) {
      assert.equal((await get(inst, 'shared', 'same-key')).body.value, v);
      assert.equal((await get(inst, 'shared', 'same-key')).body.revision, 1);
    }
    assert.equal((await get(b, 'shared', 'only-a')).status, 404);
    assert.deepEqual((await op(c.installId, { operation: 'list', namespace: 'shared' })).body.items.map((x: { key: string; tenantId: string }) => [x.key, x.tenantId]), [['same-key', 'tenant-c']]);
    assert.equal((await op(b.installId, { operation: 'delete', namespace: 'shared', key: 'only-a' })).body.success, false);
    assert.equal((await get(a, 'shared', 'only-a')).status, 200);
  });

  test('an unknown install → 404; a disabled or pending one → 401; a non-UUID id → 404; an empty one → 400', async () => {
    const off = await insertInstall(db.pool, { enabled: false });
    const pending = await insertInstall(db.pool, { status: 'pending' });
    const body = { operation: 'get', namespace: 'n', key: 'k' };
    assert.deepEqual(await op('5b6f0d7e-0000-4000-8000-000000000000', body), { status: 404, body: { error: 'extension install not found', code: 'NOT_FOUND', details: null } });
    assert.equal((await op('not-a-uuid', body)).status, 404);
    assert.deepEqual(await op(off.installId, body), { status: 401, body: { error: 'extension install is disabled', code: 'UNAUTHORIZED', details: null } });
    assert.equal((await op(pending.installId, { ...body, operation: 'put', value: 1 })).status, 401);
    assert.equal((await op('', body)).status, 400);
    // docs/differences.md#storage-paging: the install is looked up in the operation's statement, so
    // the operation's schema answers first (production: 404).
    assert.equal((await op('5b6f0d7e-0000-4000-8000-000000000000', { ...body, key: 'k'.repeat(257) })).status, 400);
  });
});

describe('bad input: production\'s 400, never a 500 or a partial write', () => {
  test('bodies that fail the schemas → 400 Validation error with details', async () => {
    const i = await insertInstall(db.pool);
    const bad: unknown[] = [
      null, 'get', [1], {}, { operation: 'explode', namespace: 'n' }, { operation: 'get' }, { operation: 'get', namespace: '' },
      { operation: 'get', namespace: 'n' }, { operation: 'get', namespace: 'n', key: 7 }, { operation: 'put', namespace: 'n', key: 'k', ttlSeconds: 1.5 },
      { operation: 'put', namespace: 'n', key: 'k', ifRevision: -1 }, { operation: 'put', namespace: 'n', key: 'k', metadata: [1] },
      { operation: 'put', namespace: 'n', key: 'k', metadata: null }, { operation: 'list', namespace: 'n', limit: 0 },
      { operation: 'list', namespace: 'n', limit: 101 }, { operation: 'list', namespace: 'n', keyPrefix: 'p'.repeat(257) },
      { operation: 'list', namespace: 'n', includeValues: 'yes' }, { operation: 'bulkPut', namespace: 'n', items: [] },
      { operation: 'bulkPut', namespace: 'n', items: [{ value: 1 }] },
    ];
    for (const body of bad) {
      const r = await op(i.installId, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'Validation error', JSON.stringify(body));
      assert.ok(r.body.details && typeof r.body.details.fieldErrors === 'object', JSON.stringify(body));
    }
  });

  test('what Postgres cannot hold (NUL in a key or namespace, \\u0000 inside a value) → 400 VALIDATION_FAILED', async () => {
    const i = await insertInstall(db.pool);
    for (const body of [
      { operation: 'put', namespace: 'n', key: 'a\0b', value: 1 },
      { operation: 'put', namespace: 'n\0', key: 'k', value: 1 },
      { operation: 'put', namespace: 'n', key: 'k', value: { s: 'a\u0000b' } },
      { operation: 'list', namespace: 'n', cursor: 'x\0' },
      { operation: 'bulkPut', namespace: 'n', items: [{ key: 'ok', value: 1 }, { key: 'nul', value: '\u0000' }] },
    ]) {
      const r = await op(i.installId, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.code, 'VALIDATION_FAILED', JSON.stringify(body));
    }
    assert.equal((await get(i, 'n', 'ok')).status, 404, 'nothing of the refused bulk write stayed');
  });
});

/** A pool whose statements are counted: node-postgres sends one query per round trip. */
function countingPool(pool: pg.Pool): { pool: pg.Pool; count: () => number } {
  let n = 0;
  const counted = Object.create(pool) as pg.Pool;
  counted.query = ((...args: unknown[]) => (n++, (pool.query as (...a: unknown[]) => unknown)(...args))) as pg.Pool['query'];
  counted.connect = (async () => {
    const client = await pool.connect();
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    return Object.assign(Object.create(client), { query: (...a: unknown[]) => (n++, query(...a)), release: (e?: Error) => client.release(e) });
  }) as pg.Pool['connect'];
  return { pool: counted, count: () => n };
}

describe('one transaction per operation', () => {
  test('round trips: put and delete 2 (BEGIN; statement — COMMIT), get and list 1, bulkPut 2', async () => {
    const i = await insertInstall(db.pool);
    const c = countingPool(db.pool);
    const counted: StorageOperationDeps = { service: createStorageService({ pool: c.pool, now: () => clock.now() }) };
    const trips = async (body: unknown) => {
      const before = c.count();
      const r = await handleStorageOperation(counted, i.installId, body);
      assert.ok(r.status < 300, JSON.stringify(r));
      return c.count() - before;
    };
    assert.equal(await trips({ operation: 'put', namespace: 'rt', key: 'k', value: 1 }), 2);
    assert.equal(await trips({ operation: 'put', namespace: 'rt', key: 'k', value: 2, ifRevision: 1 }), 2);
    assert.equal(await trips({ operation: 'get', namespace: 'rt', key: 'k' }), 1);
    assert.equal(await trips({ operation: 'list', namespace: 'rt' }), 1);
    assert.equal(await trips({ operation: 'bulkPut', namespace: 'rt', items: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }] }), 2);
    assert.equal(await trips({ operation: 'delete', namespace: 'rt', key: 'k' }), 2);
  });

  test('a write whose caller went away while its statement ran is rolled back', async () => {
    const i = await insertInstall(db.pool);
    await put(i, 'stop', 'seed', 1); // the usage row exists, so it can be held
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ext_storage_usage WHERE extension_install_id = $1 FOR UPDATE`, [i.installId]);
      const stop = new AbortController();
      const pending = op(i.installId, { operation: 'put', namespace: 'stop', key: 'k', value: 'never' }, stop.signal);
      // Wait (by polling, not by time) until the put's statement is blocked on the held row.
      for (let n = 0; ; n++) {
        const w = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%alga_storage_write%'`);
        if (w.rows[0].n > 0) break;
        if (n > 10_000) throw new Error('the put never reached its statement');
        await new Promise((r) => setImmediate(r));
      }
      stop.abort();
      await holder.query('COMMIT');
      const r = await pending;
      assert.equal(r.status, 500);
    } finally {
      holder.release();
    }
    assert.equal((await get(i, 'stop', 'k')).status, 404);
    assert.equal((await usage(i)).keys, 1);
  });
});
