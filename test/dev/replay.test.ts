/**
 * The dashboard's "replay an execution": `POST /api/admin/dev/executions/{requestId}/replay` sends
 * the kept gateway request again with a fresh idempotency key, so it really runs (a PUT's revision
 * goes up) even when the client had given a key of its own; an unknown request id is a JSON 404.
 * Then the page's replay button in headless Chromium (skipped, saying so, without /usr/bin/chromium
 * outside CI).
 */
const CHROMIUM = '/usr/bin/chromium';
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) process.stderr.write(`replay.test: no ${CHROMIUM}: the browser part is skipped\n`);
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { copyExtension, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startDev } from '../support/dev-process.js';

let db: TestDatabase;
let work: string;
before(async () => {
  db = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'alga-replay-'));
  copyExtension('kv-notes', work);
});
after(async () => {
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

test('replay runs the same request again with a fresh idempotency key', async () => {
  const dev = await startDev([join(work, 'components', 'kv-notes')], { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') });
  try {
    const base = `${dev.url}/api/ext/com.alga.sample.kv-notes`;
    const put = await fetch(`${base}/notes/r?src=test`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-idempotency-key': 'client-key-1' }, body: JSON.stringify({ text: 'replayed' }) });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { id: 'r', revision: 1 });
    const rid = put.headers.get('x-request-id')!;
    // The client's own key again: answered from the runner's idempotency cache, nothing runs.
    const same = await fetch(`${base}/notes/r?src=test`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-idempotency-key': 'client-key-1' }, body: JSON.stringify({ text: 'replayed' }) });
    assert.deepEqual(await same.json(), { id: 'r', revision: 1 });

    const overview = (await (await fetch(`${dev.url}/api/admin/dev/overview`)).json()) as { executions: { requestId: string; replayable: boolean }[] };
    assert.equal(overview.executions.find((e) => e.requestId === rid)?.replayable, true);
    const replay = await fetch(`${dev.url}/api/admin/dev/executions/${rid}/replay`, { method: 'POST' });
    assert.equal(replay.status, 200);
    const out = (await replay.json()) as { replayOf: string; requestId: string; status: number; body: string };
    assert.equal(out.replayOf, rid);
    assert.notEqual(out.requestId, rid);
    assert.equal(out.status, 200);
    assert.deepEqual(JSON.parse(out.body), { id: 'r', revision: 2 }, 'it really ran again');
    const got = (await (await fetch(`${base}/notes/r`)).json()) as { note: { text: string }; revision: number };
    assert.deepEqual(got.note, { text: 'replayed' });
    assert.equal(got.revision, 2);

    const unknown = await fetch(`${dev.url}/api/admin/dev/executions/00000000-0000-4000-8000-000000000000/replay`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: string }).error, 'replay_not_found');

    if (noBrowser) return;
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${dev.url}/`);
      // Wait for the replay's own answer: waitForFunction does not await an async predicate (a
      // Promise is truthy), so polling the note from the page raced the replay.
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/executions/${rid}/replay`)),
        page.click(`#executions .execution[data-rid="${rid}"] button[data-act="replay"]`),
      ]);
      assert.equal(answer.status(), 200);
      assert.equal(((await (await fetch(`${base}/notes/r`)).json()) as { revision: number }).revision, 3, 'the button replayed it');
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      await browser.close();
    }
  } finally {
    assert.equal(await dev.stop(), 0);
  }
});
