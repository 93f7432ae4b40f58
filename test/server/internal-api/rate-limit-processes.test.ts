import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { insertInstall } from '../../support/fixtures.js';

const script = fileURLToPath(new URL('./mutator-process.js', import.meta.url));

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

// docs/differences.md#shared-rate-limit: production keeps the window in each server process's memory, so two processes
// would let 20 through.
test('rate limit: two processes making 20 creates for one install within a minute → exactly 10 succeed', async () => {
  const ctx = await insertInstall(db.pool);
  // Both processes connect first, then start together on a line from the test (not at a
  // wall-clock instant a slow start could miss, which would make the two run one after the other).
  const child = (offset: number) => {
    const p = spawn(process.execPath, [script], {
      env: { ...process.env, DATABASE_URL: db.url, INSTALL_ID: ctx.installId, COUNT: '10', OFFSET: String(offset) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      p.stdout.on('data', (d) => {
        out += d;
        if (out.startsWith('ready\n')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`mutator exited with ${code} before ready`)));
    });
    const done = new Promise<string>((resolve, reject) =>
      p.once('close', (code) => (code === 0 ? resolve(out.slice('ready\n'.length)) : reject(new Error(`mutator exited with ${code}`)))),
    );
    return { p, ready, done };
  };
  const both = [child(0), child(30)];
  await Promise.all(both.map((c) => c.ready));
  for (const c of both) c.p.stdin.end('go\n');
  const [a, b] = (await Promise.all(both.map((c) => c.done))).map((stdout) => ({ stdout }));
  const statuses = [...JSON.parse(a.stdout), ...JSON.parse(b.stdout)] as number[];
  assert.equal(statuses.length, 20);
  assert.equal(statuses.filter((s) => s === 201).length, 10, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 429).length, 10);
  const rows = await db.pool.query(`SELECT count(*)::int AS n FROM tenant_extension_schedule WHERE install_id = $1`, [ctx.installId]);
  assert.equal(rows.rows[0].n, 10);
});
