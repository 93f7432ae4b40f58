/** The dashboard and its data are admin routes: with ALGA_ADMIN_TOKEN set, only with the token. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startDev } from '../support/dev-process.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

test('with ALGA_ADMIN_TOKEN: the page and the overview answer 401 without it, 200 with it', async () => {
  const dev = await startDev([join(projectRoot(), 'components', 'scheduler-demo')], {
    DATABASE_URL: db.url,
    ALGA_DATA_DIR: join(projectRoot(), '.alga'),
    ALGA_ADMIN_TOKEN: 'dashboard-test-token-0123456789',
  });
  try {
    assert.equal((await fetch(`${dev.url}/`)).status, 401);
    assert.equal((await fetch(`${dev.url}/api/admin/dev/overview`)).status, 401);
    const page = await fetch(`${dev.url}/?token=dashboard-test-token-0123456789`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>alga-runner dev<\/title>/);
    const data = await fetch(`${dev.url}/api/admin/dev/overview`, { headers: { authorization: 'Bearer dashboard-test-token-0123456789' } });
    assert.equal(data.status, 200);
    assert.equal(((await data.json()) as { installs: { tenantId: string }[] }).installs[0]!.tenantId, 'local');
    // Unknown paths are still the server's JSON 404, not the page.
    assert.equal((await fetch(`${dev.url}/nope`)).status, 404);
  } finally {
    assert.equal(await dev.stop(), 0);
  }
});
