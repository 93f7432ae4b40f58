/** `alga-runner dev`: /readyz says "installing the extension" until the extension answers, then 200. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { freePort } from '../../src/server/db/embedded.js';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
let dataDir: string;
before(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'alga-dev-ready-'));
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('readiness follows the install: 503 with the reason before the extension is installed, 200 after', { timeout: 300_000 }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'alga-runner.js'), 'dev', 'components/scheduler-probe', '--port', String(port), '--no-watch'], {
    env: { ...process.env, DATABASE_URL: db.url, ALGA_DATA_DIR: dataDir, ALGA_SCHEDULE_EXECUTION: 'off' },
    cwd: projectRoot(),
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const running = () => /is running for tenant/.test(out);
  const before: { status: number; reason: unknown }[] = [];
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dev exited:\n${out}`);
      const wasRunning = running();
      const r = await request(`http://127.0.0.1:${port}/readyz`).then(async (res) => ({ status: res.statusCode, json: (await res.body.json()) as { reason?: unknown } })).catch(() => undefined);
      if (r && wasRunning) {
        assert.equal(r.status, 200, JSON.stringify(r.json));
        break;
      }
      if (r) before.push({ status: r.status, reason: r.json.reason });
      await new Promise((res) => setTimeout(res, 10));
    }
    for (const b of before) if (b.status !== 200) assert.deepEqual(b, { status: 503, reason: 'installing the extension' });
    const gw = await request(`http://127.0.0.1:${port}/api/ext/com.alga.test.scheduler-probe/counter`);
    assert.equal(gw.statusCode, 200);
    await gw.body.dump();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
