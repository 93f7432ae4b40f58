/**
 * Secrets end to end, in both shapes: an install's stored secrets reach the guest on every execution
 * the platform makes (gateway, scheduled run, run-now), a bad envelope is `secret_decrypt_failed`, and
 * a planted value appears in no sink: log lines (the split runner's included), errors, metrics, run
 * records, HTTP answers — except the guest's own answer to its `secrets.get`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { createManualClock } from '../../src/server/execution/clock.js';
import { writeInstallSecrets } from '../../src/server/secrets/install-secrets.js';
import { createLogger } from '../../src/shared/logger.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const PLANTED = 'pl4nted-S3CRET-7f3a9c';
const PROBE = 'com.alga.test.scheduler-probe';

for (const shape of ['in-process', 'split'] as const) describe(`secrets, ${shape}`, () => {
  let tp: TestPlatform;
  const lines: string[] = [];
  /** HTTP answers that are sinks (everything but the guest's own get). */
  const answers: string[] = [];
  const clock = createManualClock(Date.now());
  let installId: string;

  before(async () => {
    tp = await startTestPlatform({
      shape,
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
      execution: { enabled: true, clock, dispatch: false, pollMs: 50 },
    });
    ({ installId } = await tp.install('scheduler-probe'));
    await writeInstallSecrets(tp.platform.pool, { installId, tenantId: tp.platform.tenantId }, { api_key: PLANTED, region: 'eu' });
  });
  after(async () => tp?.stop());

  async function until<T>(fn: () => Promise<T>): Promise<NonNullable<T>> {
    for (let n = 0; n < 20_000; n++) {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('condition not met');
  }
  const runsOf = async (id: string) => (await tp.db.pool.query(`SELECT * FROM extension_schedule_run WHERE schedule_id = $1 ORDER BY started_at`, [id])).rows;

  test('the gateway carries the stored secrets: the guest reads them', async () => {
    const r = await tp.probe([{ fn: 'secrets.get', args: ['api_key'] }, { fn: 'secrets.get', args: ['nope'] }]);
    assert.deepEqual(r, [{ ok: PLANTED }, { err: 'missing' }]);
    const keys = await tp.call('POST', PROBE, '/probe', { body: { calls: [{ fn: 'secrets.list-keys' }] } });
    answers.push(keys.text);
    assert.deepEqual(keys.json.results, [{ ok: ['api_key', 'region'] }]);
  });

  test('a scheduled run and a run-now carry them too', async () => {
    const payload = JSON.stringify({ calls: [{ fn: 'secrets.list-keys' }] });
    const [created] = await tp.probe([{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'POST /probe', cron: '*/5 * * * *', payload, name: `secrets-${shape}` }] }]);
    const id = created.ok.scheduleId as string;
    const due: Date = (await tp.db.pool.query(`SELECT next_run_at FROM extension_schedule_dispatch WHERE schedule_id = $1`, [id])).rows[0].next_run_at;
    clock.set(due.getTime() + 1000);
    await tp.platform.execution!.tick();
    const [scheduled] = await until(async () => ((r) => (r.length && r[0].status !== 'running' ? r : null))(await runsOf(id)));
    assert.equal(scheduled.status, 'success', scheduled.error);
    assert.deepEqual(JSON.parse(scheduled.response_excerpt).results, [{ ok: ['api_key', 'region'] }]);

    await tp.platform.execution!.admin.runNow(id, { tenantId: tp.platform.tenantId });
    const now = await until(async () => (await runsOf(id)).find((r) => r.trigger === 'run-now' && r.status !== 'running'));
    assert.equal(now.status, 'success', now.error);
    assert.deepEqual(JSON.parse(now.response_excerpt).results, [{ ok: ['api_key', 'region'] }]);
  });

  test('a stored envelope that does not decrypt → secret_decrypt_failed, and the value is not in the error', async () => {
    const other = await tp.install('scheduler-probe', { tenantId: 'tenant-bad-secrets' });
    await tp.db.pool.query(
      `INSERT INTO tenant_extension_install_secrets (install_id, tenant_id, ciphertext, algorithm) VALUES ($1, 'tenant-bad-secrets', $2, 'inline/base64')`,
      [other.installId, `not base64: ${PLANTED}`],
    );
    const r = await tp.call('POST', PROBE, '/probe', { tenant: 'tenant-bad-secrets', body: { calls: [{ fn: 'secrets.list-keys' }] } });
    answers.push(r.text);
    assert.ok(r.status >= 500, r.text);
    assert.match(r.text, /secret_decrypt_failed/);
  });

  test('the planted value is in no log line, metric, run record or HTTP answer', async () => {
    const metrics = await request(`${tp.url}/metrics`);
    answers.push(await metrics.body.text());
    const sinks: [string, string][] = [
      ['log lines', lines.join('\n')],
      ['HTTP answers', answers.join('\n')],
      ['run records', JSON.stringify((await tp.db.pool.query(`SELECT * FROM extension_schedule_run`)).rows)],
      ['schedules', JSON.stringify((await tp.db.pool.query(`SELECT * FROM tenant_extension_schedule`)).rows)],
      ['jobs', JSON.stringify((await tp.db.pool.query(`SELECT * FROM jobs`)).rows)],
    ];
    assert.ok(lines.length > 10, 'the logger saw the executions');
    assert.ok(lines.some((l) => l.includes('secret_decrypt_failed')), 'the failure was logged');
    for (const [name, text] of sinks) assert.ok(!text.includes(PLANTED), `${name} hold the secret value`);
  });
});
