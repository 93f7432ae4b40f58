/**
 * The conformance kit against our runner, in both deployment shapes; against a deliberately broken
 * host (it must fail, naming the function and case); and against a runner that behaves like
 * production where docs/differences.md fixes a defect (it must report "differs as documented").
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { runConformance, type ConformanceReport } from '../../src/conformance/kit.js';
import { kitPlatformOptions } from '../../src/conformance/stand-ins.js';
import { failureLine } from '../../src/conformance/report.js';
import { WORLDS, findWorlds } from '../../src/conformance/worlds.js';
import { createHttpSchedulerBackend } from '../../src/host/http/scheduler-client.js';
import type { SchedulerBackend } from '../../src/host/ports.js';
import { createRunner } from '../../src/host/runner.js';
import { loadBundle } from '../../src/server/registry/registry.js';
import type { ExecuteClient } from '../../src/shared/execute-envelope.js';
import { projectRoot } from '../support/components.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const failures = (r: ConformanceReport) => r.results.filter((x) => x.outcome === 'fail').map(failureLine).join('\n');

for (const shape of ['in-process', 'split'] as const) {
  describe(`our runner, ${shape}`, () => {
    let tp: TestPlatform;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'alga-conformance-kit-'));
      tp = await startTestPlatform({ shape, ...(await kitPlatformOptions(loadConfig(), { dir })) });
    });
    after(async () => {
      await tp?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('passes every case of every world', async () => {
      const report = await runConformance({ platform: tp.platform, client: tp.platform.runner, target: shape });
      assert.equal(report.summary.fail, 0, failures(report));
      assert.equal(report.summary.documented, 0);
      assert.deepEqual(report.worlds.map((w) => w.id), WORLDS.map((w) => w.id));
      // Every function of today's world is covered, each under more than one condition.
      const fns = new Set(report.results.filter((r) => r.world === 'current').map((r) => r.fn));
      for (const fn of ['context.get-context', 'secrets.get', 'secrets.list-keys', 'http.fetch', 'storage.get', 'storage.put', 'storage.delete',
        'storage.list-entries', 'logging.log-info', 'logging.log-warn', 'logging.log-error', 'ui-proxy.call-route', 'user.get-user', 'user-v2.get-user',
        'scheduler.list-schedules', 'scheduler.get-schedule', 'scheduler.create-schedule', 'scheduler.update-schedule', 'scheduler.delete-schedule',
        'scheduler.get-endpoints', 'invoicing.create-manual-invoice', 'clients.list-clients', 'clients.get-client', 'services.list-services',
        'services.get-service']) {
        assert.ok(fns.has(fn), `no case for ${fn}`);
      }
      // The fixes over production are exercised (a pass that names its decision).
      assert.ok(report.results.filter((r) => r.outcome === 'pass' && r.decision?.startsWith('docs/differences.md#')).length >= 10);
    });
  });
}

describe('a deliberately broken or production-like host', () => {
  const TOKEN = 'conformance-test-token';
  let tp: TestPlatform;
  before(async () => {
    tp = await startTestPlatform({ runnerToken: TOKEN });
  });
  after(async () => tp?.stop());

  test('a scheduler backend answering internal where the platform says not-found fails, naming the function and case', async () => {
    // The injection seam is the runner's existing `services.scheduler` option: the real HTTP
    // callback client, wrapped so that a 404 (install unknown) comes back as a 500.
    const real = createHttpSchedulerBackend({ baseUrl: tp.url, token: TOKEN });
    const broken: SchedulerBackend = {
      async call(installId, request, signal) {
        const reply = await real.call(installId, request, signal);
        return reply.status === 404 ? { status: 500, body: { error: 'Internal error', code: 'INTERNAL_ERROR' } } : reply;
      },
    };
    const runner = createRunner({
      cacheDir: join(projectRoot(), '.alga', 'cache'),
      components: { load: ({ contentHash }) => loadBundle(tp.platform.pool, contentHash) },
      services: { scheduler: broken },
    });
    try {
      const report = await runConformance({ platform: tp.platform, client: runner, worlds: findWorlds(['current']), filter: ['scheduler.'] });
      const failed = report.results.filter((r) => r.outcome === 'fail');
      assert.ok(failed.length >= 3, failures(report));
      const line = failed.map(failureLine).find((l) => l.includes('scheduler.list-schedules [granted, install unknown to the platform]'));
      assert.ok(line, failures(report));
      assert.match(line, /^FAIL current scheduler\.list-schedules \[granted, install unknown to the platform\]: scheduler\.list-schedules: err: expected "not-found", observed "internal"$/);
      // Only the cases that reach the broken path fail.
      assert.ok(failed.every((r) => r.condition.includes('install unknown')), failures(report));
    } finally {
      await runner.close();
      await real.close();
    }
  });

  test('a runner behaving like production (no field errors, a debug rendering) differs as documented, not failing', async () => {
    const inner = tp.platform.runner;
    const debug = 'SchedulerError { code: 1, name: "validation-failed", message: "" }';
    // Production's runner does not read a 4xx body (docs/production-contract.md#scheduler-callback): only its own local payload check
    // carries field errors.
    const productionLike: ExecuteClient = {
      async execute(headers, body, signal) {
        const res = await inner.execute(headers, body, signal);
        if (res.error || !res.body_b64) return res;
        const json = JSON.parse(Buffer.from(res.body_b64, 'base64').toString('utf8'));
        if (!Array.isArray(json.results)) return res;
        json.results = json.results.map((r: any) =>
          r.ok?.success === false && typeof r.ok.fieldErrors === 'string' && !r.ok.fieldErrors.includes('Payload must be valid JSON')
            ? { ok: { ...r.ok, error: debug, fieldErrors: null } }
            : r,
        );
        return { ...res, body_b64: Buffer.from(JSON.stringify(json)).toString('base64') };
      },
    };
    const report = await runConformance({ platform: tp.platform, client: productionLike, worlds: findWorlds(['current']), filter: ['scheduler.create-schedule'] });
    assert.equal(report.summary.fail, 0, failures(report));
    const documented = report.results.filter((r) => r.outcome === 'documented');
    assert.ok(documented.length >= 6, JSON.stringify(report.summary));
    assert.ok(documented.every((r) => /^docs\/differences\.md#(field-errors|minimum-interval):/.test(r.decision ?? '')), JSON.stringify(documented.map((r) => r.decision)));
    const notJson = report.results.find((r) => r.condition.startsWith('payload not JSON'));
    assert.equal(notJson?.outcome, 'pass');
  });
});
