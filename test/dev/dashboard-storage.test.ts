/**
 * The dashboard's "delete a storage key": `DELETE /api/admin/dev/storage/{install}/{namespace}/{key}`
 * deletes through the storage service, so the install's `ext_storage_usage` goes down with it; a key
 * that is not there is a 404 and a malformed install id a 400, both JSON with a code. Then the
 * storage panel's "delete" button in headless Chromium (skipped, saying so, without /usr/bin/chromium
 * outside CI, as test/dev/dashboard.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { copyExtension, projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startDev } from '../support/dev-process.js';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) process.stderr.write(`dashboard-storage.test: no ${CHROMIUM}: the browser part is skipped\n`);

let db: TestDatabase;
let work: string;
before(async () => {
  db = await createTestDatabase();
  work = mkdtempSync(join(tmpdir(), 'alga-dash-storage-'));
  copyExtension('kv-notes', work);
});
after(async () => {
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

test('deleting a storage key from the dashboard API goes through the storage service (usage decremented)', async () => {
  const dev = await startDev([join(work, 'components', 'kv-notes')], { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') });
  try {
    const base = `${dev.url}/api/ext/com.alga.sample.kv-notes`;
    const installId = /install ([0-9a-f-]{36})/.exec(dev.output())![1]!;
    for (const id of ['a', 'b']) assert.equal((await fetch(`${base}/notes/${id}`, { method: 'PUT', body: JSON.stringify({ text: `note ${id}` }) })).status, 200);
    const usage = async () => {
      const r = await db.pool.query(`SELECT keys_count, bytes_used FROM ext_storage_usage WHERE extension_install_id = $1`, [installId]);
      return { keys: Number(r.rows[0].keys_count), bytes: Number(r.rows[0].bytes_used) };
    };
    const before = await usage();
    assert.equal(before.keys, 2);
    const overview = async () => ((await (await fetch(`${dev.url}/api/admin/dev/overview`)).json()) as { installs: { storage: { key: string }[] }[] }).installs[0]!.storage.map((s) => s.key);
    assert.deepEqual(await overview(), ['a', 'b']);

    const del = await fetch(`${dev.url}/api/admin/dev/storage/${installId}/notes/a`, { method: 'DELETE' });
    assert.equal(del.status, 200, await del.clone().text());
    assert.deepEqual(await del.json(), { deleted: { installId, namespace: 'notes', key: 'a' } });
    const afterDelete = await usage();
    assert.equal(afterDelete.keys, 1);
    assert.ok(afterDelete.bytes < before.bytes && afterDelete.bytes > 0, `bytes ${before.bytes} → ${afterDelete.bytes}`);
    assert.deepEqual(await overview(), ['b']);
    assert.equal((await fetch(`${base}/notes/a`)).status, 404, 'the guest no longer sees it');

    const again = await fetch(`${dev.url}/api/admin/dev/storage/${installId}/notes/a`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: string }).error, 'storage_key_not_found');
    const bad = await fetch(`${dev.url}/api/admin/dev/storage/not-a-uuid/notes/b`, { method: 'DELETE' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_install_id');
    assert.deepEqual(await usage(), afterDelete, 'refusals change nothing');

    // The storage panel's button, in a browser: the row goes, without a reload, and usage with it.
    if (noBrowser) return;
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('dialog', (d) => void d.accept());
      await page.goto(`${dev.url}/`);
      await page.waitForSelector('#storage tr[data-key="b"]');
      await page.click('#storage tr[data-key="b"] button[data-act="delete-key"]');
      await page.waitForSelector('#storage >> text=no storage entries');
      assert.equal((await usage()).keys, 0);
      assert.equal((await fetch(`${base}/notes/b`)).status, 404);
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      await browser.close();
    }
  } finally {
    assert.equal(await dev.stop(), 0);
  }
});
