/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core): it
 * loads from `dev`, lists the sample's schedules after setup, "run now" adds a run to the history
 * without a reload, the executions with their guest logs and the installs show, and the page stays
 * usable with 1 000 runs in the history. Screenshots go to test-artifacts/ (gitignored).
 * Without /usr/bin/chromium: in CI (CI set) the test fails; elsewhere it says so and is skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { projectRoot } from '../support/components.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startDev, type DevProcess } from '../support/dev-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(projectRoot(), 'test-artifacts');
const NAME = 'com.alga.sample.scheduler-demo';
const haveBrowser = existsSync(CHROMIUM);
const skip = !haveBrowser && !process.env.CI ? `no ${CHROMIUM} (scripts/install-chromium.sh installs it): the dashboard's browser test is skipped` : false;
if (skip) process.stderr.write(`dashboard.test: ${skip}\n`);

let db: TestDatabase;
let dev: DevProcess | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  assert.ok(haveBrowser, `CI needs ${CHROMIUM} for the dashboard test (scripts/install-chromium.sh)`);
  db = await createTestDatabase();
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await dev?.stop();
  await db?.drop();
});

test('dashboard: schedules after setup, run now adds a run without a reload, logs and installs show, 1 000 runs stay usable', { skip }, async () => {
  dev = await startDev([join(projectRoot(), 'components', 'scheduler-demo')], { DATABASE_URL: db.url, ALGA_DATA_DIR: join(projectRoot(), '.alga') });
  const base = `${dev.url}/api/ext/${NAME}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${dev.url}/`);
  await page.waitForSelector('#updated:text-matches("updated")');
  assert.match((await page.textContent('#schedules')) ?? '', /no schedules yet/);

  // Setup through the gateway; the page picks the schedules up on its own.
  assert.equal((await fetch(`${base}/api/setup`, { method: 'POST', body: '{}' })).status, 200);
  await page.waitForSelector('#schedules tr[data-id] >> text=Heartbeat Check');
  const rows = await page.$$eval('#schedules tr[data-id]', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
  assert.equal(rows.length, 2);
  const hbRow = rows.find((r) => r.includes('Heartbeat Check'))!;
  assert.match(hbRow, /Every 5 minutes/);
  assert.match(hbRow, /UTC/);
  assert.match(rows.find((r) => r.includes('Daily Status Check'))!, /At 09:00[\s\S]*America\/New_York[\s\S]*\d{4}-\d\d-\d\d 09:00/);
  // Installs, endpoints (why one is not schedulable), and the setup execution with its guest logs.
  assert.match((await page.textContent('#installs')) ?? '', /com\.alga\.sample\.scheduler-demo.*tenant local/);
  assert.match((await page.textContent('#installs')) ?? '', /no: DELETE \(schedules call GET or POST\)/);
  await page.waitForSelector('#executions .execution >> text=POST /api/setup');
  assert.match((await page.textContent('#executions')) ?? '', /created schedule "Heartbeat Check"/);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-setup.png'), fullPage: true });

  // Run now on the heartbeat: a run appears in its history, without a reload.
  await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));
  await page.click('#schedules tr:has-text("Heartbeat Check") a[data-act="select"]');
  await page.click('#schedules tr:has-text("Heartbeat Check") button[data-act="run-now"]');
  await page.waitForSelector('#runs tr.run >> text=run-now', { timeout: 60_000 });
  await page.waitForSelector('#runs tr.run td.ok >> text=success', { timeout: 60_000 });
  await page.waitForSelector('#executions .execution >> text=POST /api/heartbeat');
  assert.equal(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker), 1, 'the page was not reloaded');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-run-now.png'), fullPage: true });

  // Disable from the page; the row says so.
  await page.click('#schedules tr:has-text("Heartbeat Check") button[data-act="disable"]');
  await page.waitForSelector('#schedules tr:has-text("Heartbeat Check") >> text=disabled');

  // 1 000 runs in the history: the page still renders the newest ones and answers clicks.
  const hbId = (await page.getAttribute('#schedules tr:has-text("Heartbeat Check")', 'data-id'))!;
  await db.pool.query(
    `INSERT INTO extension_schedule_run (schedule_id, tenant_id, install_id, occurrence_at, trigger, attempt, max_attempts, started_at, finished_at, duration_ms, status, http_status)
     SELECT s.id, s.tenant_id, s.install_id, now() - make_interval(mins => g * 5), 'schedule', 1, 3, now() - make_interval(mins => g * 5), now() - make_interval(mins => g * 5), 3, 'success', 200
       FROM tenant_extension_schedule s, generate_series(1, 1000) g WHERE s.id = $1`,
    [hbId],
  );
  await page.waitForFunction(() => document.querySelectorAll('#runs tr.run').length >= 200, undefined, { timeout: 60_000 });
  assert.equal(await page.$$eval('#runs tr.run', (r) => r.length), 200, 'the newest 200 are shown');
  await page.click('#schedules tr:has-text("Daily Status Check") a[data-act="select"]');
  await page.waitForSelector('#history-of >> text=Daily Status Check');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1000-runs.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no script errors on the page');
});
