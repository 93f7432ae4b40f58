/**
 * `alga-runner dev` watches the folder: an edit of a handler's source (in a temporary copy of the
 * sample) is rebuilt and swapped in — the next request answers with the new code, the install and
 * its schedules stay; a syntax error keeps the old code serving and is reported with file and line;
 * a manifest that drops a scheduled endpoint is refused with the 409 shown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { copyExtension, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startDev, type DevProcess } from '../support/dev-process.js';

let db: TestDatabase;
let work: string;
let dir: string;
let dev: DevProcess | undefined;
const NAME = 'com.alga.sample.scheduler-demo';

before(async () => {
  db = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'alga-watch-'));
  // The sample and the SDK it imports, side by side as in the repository.
  copyExtension('scheduler-demo', work);
  dir = join(work, 'components', 'scheduler-demo');
});
after(async () => {
  await dev?.stop();
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

/** Counts the matches of `re` in the output (to wait for the next one). */
const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, 'g')) ?? []).length;

async function nextMatch(d: DevProcess, re: RegExp): Promise<string> {
  const seen = count(d.output(), re);
  const m = await d.waitFor(new RegExp(`(?:[\\s\\S]*?${re.source}){${seen + 1}}`), 300_000);
  return m[0];
}

test('edit → rebuilt and swapped; syntax error keeps the old code; a dropped scheduled endpoint is refused with the 409', async () => {
  // The project's build cache is shared (DATABASE_URL is set, so no Postgres starts in it).
  dev = await startDev([dir], { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') });
  const base = `${dev.url}/api/ext/${NAME}`;
  assert.match(dev.output(), /watching .*scheduler-demo \(sources and manifest\.json\)/);
  const installLine = /install ([0-9a-f-]{36})/.exec(dev.output())![1];
  assert.equal((await fetch(`${base}/api/setup`, { method: 'POST', body: '{}' })).status, 200);
  const schedules = async () => ((await (await fetch(`${base}/api/schedules`)).json()) as { schedules: { id: string; name: string }[] }).schedules;
  const before = (await schedules()).map((s) => s.id).sort();
  assert.equal(before.length, 2);
  const status = async () => (await (await fetch(`${base}/api/status`)).json()) as Record<string, unknown>;
  assert.equal((await status()).edited, undefined);

  // 1. An edit of the handler: the next request answers with the new code.
  const src = join(dir, 'src', 'index.ts');
  const original = readFileSync(src, 'utf8');
  const edited = original.replace("status: 'healthy',", "status: 'healthy',\n    edited: 'by the watch test',");
  assert.notEqual(edited, original);
  let reloaded = nextMatch(dev, /✔ reloaded [^\n]*swapped in [^\n]*\n/);
  writeFileSync(src, edited);
  await reloaded;
  assert.equal((await status()).edited, 'by the watch test');
  assert.deepEqual((await schedules()).map((s) => s.id).sort(), before, 'schedules survive the swap');
  const install = await db.pool.query(`SELECT id FROM tenant_extension_install WHERE tenant_id = 'local'`);
  assert.deepEqual(install.rows.map((r) => r.id), [installLine], 'the same install');

  // 2. A syntax error: reported with file and line; the last good code keeps serving.
  const broken = edited.replace("edited: 'by the watch test',", "edited: 'by the watch test',,, (");
  const lineNo = broken.split('\n').findIndex((l) => l.includes(',,, (')) + 1;
  const failed = nextMatch(dev, /✖ build failed; still serving [^\n]*\n[^\n]*\n[^\n]*\n/);
  writeFileSync(src, broken);
  const report = await failed;
  assert.match(report, new RegExp(`src/index\\.ts:${lineNo}:\\d+: `), report);
  assert.equal((await status()).edited, 'by the watch test');

  // 3. A manifest that drops the scheduled POST /api/heartbeat: refused (409), old version serves.
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  manifest.api.endpoints = manifest.api.endpoints.filter((e: { path: string }) => e.path !== '/api/heartbeat');
  const refused = nextMatch(dev, /✖ manifest change refused[^\n]*\n(?:[^\n]*\n){3}/);
  writeFileSync(src, edited);
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const shown = await refused;
  assert.match(shown, /409 SCHEDULE_REMAP_FAILED: Extension update blocked/);
  assert.match(shown, /schedule [0-9a-f-]{36} "Heartbeat Check" calls POST \/api\/heartbeat/);
  assert.match(shown, /--disable-missing-schedules/);
  const hb = await fetch(`${base}/api/heartbeat`, { method: 'POST', body: '{}' });
  assert.equal(hb.status, 200, 'the old version still declares the endpoint');
  assert.deepEqual((await schedules()).map((s) => s.id).sort(), before);

  assert.equal(await dev.stop(), 0);
  dev = undefined;
});
