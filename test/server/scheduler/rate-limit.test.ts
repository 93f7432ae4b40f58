import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAdmission, purgeStaleRateLimits } from '../../../src/server/scheduler/rate-limit.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

function clock(start = Date.parse('2026-05-01T12:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

type Limiter = ReturnType<typeof createAdmission>;
const consume = async (limiter: Limiter, id: string) => (await limiter.admit(id, true))!.allowed;
async function consumeN(limiter: Limiter, id: string, n: number) {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(await consume(limiter, id));
  return out;
}

test('rate limit: 10 mutations per install in a window, the 11th and later rejected', async () => {
  const { installId } = await insertInstall(db.pool);
  const c = clock();
  const limiter = createAdmission({ pool: db.pool, now: c.now });
  const results = await consumeN(limiter, installId, 14);
  assert.deepEqual(results, [...Array(10).fill(true), ...Array(4).fill(false)]);
});

test('rate limit: a fixed window — still closed at 59.999 s, a new window of 10 at 60 s', async () => {
  const { installId } = await insertInstall(db.pool);
  const c = clock();
  const limiter = createAdmission({ pool: db.pool, now: c.now });
  await consumeN(limiter, installId, 10);
  c.advance(59_999);
  assert.equal(await consume(limiter, installId), false);
  c.advance(1);
  assert.deepEqual(await consumeN(limiter, installId, 11), [...Array(10).fill(true), false]);
});

test('rate limit: rejected calls are not counted (the stored count stops at the limit marker)', async () => {
  const { installId } = await insertInstall(db.pool);
  const limiter = createAdmission({ pool: db.pool, now: clock().now });
  await consumeN(limiter, installId, 30);
  const { count } = (await db.pool.query(`SELECT count FROM extension_scheduler_rate_limit WHERE install_id = $1`, [installId])).rows[0];
  assert.equal(count, 11);
});

test('rate limit: concurrent calls on the database clock let exactly 10 through', async () => {
  const { installId } = await insertInstall(db.pool);
  const limiter = createAdmission({ pool: db.pool });
  const results = await Promise.all(Array.from({ length: 25 }, () => consume(limiter, installId)));
  assert.equal(results.filter(Boolean).length, 10);
});

test('rate limit: installs are counted separately', async () => {
  const a = await insertInstall(db.pool);
  const b = await insertInstall(db.pool);
  const limiter = createAdmission({ pool: db.pool, now: clock().now });
  await consumeN(limiter, a.installId, 11);
  assert.equal(await consume(limiter, b.installId), true);
});

test('rate limit: stale windows are purged', async () => {
  const { installId } = await insertInstall(db.pool);
  const c = clock();
  await consume(createAdmission({ pool: db.pool, now: c.now }), installId);
  assert.equal(await purgeStaleRateLimits(db.pool, new Date(c.advance(60_000))), 0);
  assert.ok((await purgeStaleRateLimits(db.pool, new Date(c.advance(61_000)))) >= 1);
  assert.equal((await db.pool.query(`SELECT 1 FROM extension_scheduler_rate_limit WHERE install_id = $1`, [installId])).rowCount, 0);
});

test('admission: the install and the count come from one statement; unknown, inactive or malformed installs are never counted', async () => {
  const active = await insertInstall(db.pool);
  const disabled = await insertInstall(db.pool);
  await db.pool.query(`UPDATE tenant_extension_install SET status = 'disabled' WHERE id = $1`, [disabled.installId]);
  const admission = createAdmission({ pool: db.pool, now: clock().now });
  const queries: string[] = [];
  const spy = { ...db.pool, query: (...args: Parameters<typeof db.pool.query>) => (queries.push(String(args[0])), db.pool.query(...args)) };
  const counted = createAdmission({ pool: spy as unknown as typeof db.pool });

  const admitted = await counted.admit(active.installId, true);
  assert.deepEqual(admitted, { install: { tenantId: active.tenantId, installId: active.installId, versionId: active.versionId, registryId: active.registryId }, allowed: true });
  assert.equal(queries.length, 1, 'one round trip');

  assert.equal(await admission.admit(disabled.installId, true), null);
  assert.equal(await admission.admit('00000000-0000-4000-8000-000000000000', true), null);
  assert.equal(await admission.admit('not-a-uuid', true), null);
  const rows = await db.pool.query(`SELECT install_id FROM extension_scheduler_rate_limit WHERE install_id = ANY($1::uuid[])`, [
    [disabled.installId, '00000000-0000-4000-8000-000000000000'],
  ]);
  assert.equal(rows.rowCount, 0);

  // A read is admitted without counting, even when the install is over its limit.
  const reader = await insertInstall(db.pool);
  await consumeN(admission, reader.installId, 11);
  assert.equal((await admission.admit(reader.installId, false))?.allowed, true);
  assert.equal((await db.pool.query(`SELECT count FROM extension_scheduler_rate_limit WHERE install_id = $1`, [reader.installId])).rows[0].count, 11);
});
