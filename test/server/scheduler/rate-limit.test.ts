import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRateLimiter, purgeStaleRateLimits } from '../../../src/server/scheduler/rate-limit.js';
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

async function consumeN(limiter: { consume(id: string): Promise<boolean> }, id: string, n: number) {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(await limiter.consume(id));
  return out;
}

test('rate limit: 10 mutations per install in a window, the 11th and later rejected', async () => {
  const { installId } = await insertInstall(db.pool);
  const c = clock();
  const limiter = createRateLimiter({ pool: db.pool, now: c.now });
  const results = await consumeN(limiter, installId, 14);
  assert.deepEqual(results, [...Array(10).fill(true), ...Array(4).fill(false)]);
});

test('rate limit: a fixed window — still closed at 59.999 s, a new window of 10 at 60 s', async () => {
  const { installId } = await insertInstall(db.pool);
  const c = clock();
  const limiter = createRateLimiter({ pool: db.pool, now: c.now });
  await consumeN(limiter, installId, 10);
  c.advance(59_999);
  assert.equal(await limiter.consume(installId), false);
  c.advance(1);
  assert.deepEqual(await consumeN(limiter, installId, 11), [...Array(10).fill(true), false]);
});

test('rate limit: rejected calls are not counted (the stored count stops at the limit marker)', async () => {
  const { installId } = await insertInstall(db.pool);
  const limiter = createRateLimiter({ pool: db.pool, now: clock().now });
  await consumeN(limiter, installId, 30);
  const { count } = (await db.pool.query(`SELECT count FROM extension_scheduler_rate_limit WHERE install_id = $1`, [installId])).rows[0];
  assert.equal(count, 11);
});

test('rate limit: concurrent calls on the database clock let exactly 10 through', async () => {
  const { installId } = await insertInstall(db.pool);
  const limiter = createRateLimiter({ pool: db.pool });
  const results = await Promise.all(Array.from({ length: 25 }, () => limiter.consume(installId)));
  assert.equal(results.filter(Boolean).length, 10);
});

test('rate limit: installs are counted separately', async () => {
  const a = await insertInstall(db.pool);
  const b = await insertInstall(db.pool);
  const limiter = createRateLimiter({ pool: db.pool, now: clock().now });
  await consumeN(limiter, a.installId, 11);
  assert.equal(await limiter.consume(b.installId), true);
});

test('rate limit: stale windows are purged', async () => {
  const { installId } = await insertInstall(db.pool);
  const c = clock();
  await createRateLimiter({ pool: db.pool, now: c.now }).consume(installId);
  assert.equal(await purgeStaleRateLimits(db.pool, new Date(c.advance(60_000))), 0);
  assert.ok((await purgeStaleRateLimits(db.pool, new Date(c.advance(61_000)))) >= 1);
  assert.equal((await db.pool.query(`SELECT 1 FROM extension_scheduler_rate_limit WHERE install_id = $1`, [installId])).rowCount, 0);
});
