/**
 * Older worlds: one conformance component per world version, each built from the same source
 * against its own WIT (wit-history/<date>/), runs on our runner unchanged and reads the user
 * record of its own version.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runConformance, type ConformanceReport } from '../../src/conformance/kit.js';
import { failureLine } from '../../src/conformance/report.js';
import { WORLDS, worldPaths } from '../../src/conformance/worlds.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const witImports = (witDir: string) => {
  const text = readFileSync(join(witDir, 'extension-runner.wit'), 'utf8');
  const world = text.slice(text.indexOf('world runner {'));
  return [...world.matchAll(/^\s*import ([a-z0-9-]+);/gm)].map((m) => m[1]);
};

describe('world versions', () => {
  test('each world\'s WIT imports exactly the interfaces worlds.ts lists, and its entry imports no others', () => {
    for (const w of WORLDS) {
      const { witDir, entry } = worldPaths(w);
      assert.deepEqual(witImports(witDir), [...w.interfaces], w.id);
      const used = [...readFileSync(entry, 'utf8').matchAll(/from 'alga:extension\/([a-z0-9-]+)'/g)].map((m) => m[1]).filter((i) => i !== 'types');
      assert.deepEqual([...used].sort(), [...w.interfaces].sort(), w.id);
    }
  });

  test('the January 2026 world declares company-name and no user-type; today\'s the reverse', () => {
    const jan = readFileSync(join(worldPaths(WORLDS.find((w) => w.id === '2026-01-03')!).witDir, 'extension-runner.wit'), 'utf8');
    const userData = (t: string) => t.slice(t.indexOf('record user-data {'), t.indexOf('}', t.indexOf('record user-data {')));
    assert.match(userData(jan), /company-name: string/);
    assert.doesNotMatch(userData(jan), /user-type|client-name/);
    const now = readFileSync(join(worldPaths(WORLDS.find((w) => w.id === 'current')!).witDir, 'extension-runner.wit'), 'utf8');
    assert.match(userData(now), /client-name: string/);
    assert.match(userData(now), /user-type: string/);
  });

  describe('on our runner', () => {
    let tp: TestPlatform;
    let report: ConformanceReport;
    before(async () => {
      tp = await startTestPlatform();
      report = await runConformance({ platform: tp.platform, client: tp.platform.runner, filter: ['/v1/execute', 'user'] });
    });
    after(async () => tp?.stop());

    const userObservation = (world: string, fn: string) => {
      const r = report.results.find((x) => x.world === world && x.fn === fn && x.condition.startsWith('user present: '));
      assert.ok(r, `no ${fn} case for ${world}`);
      assert.equal(r.outcome, 'pass', failureLine(r));
      return (r.observations[0] as { ok: Record<string, unknown> }).ok;
    };

    test('every world\'s component runs and answers as its own world', () => {
      assert.equal(report.summary.fail, 0, report.results.filter((r) => r.outcome === 'fail').map(failureLine).join('\n'));
      for (const w of WORLDS) {
        const r = report.results.find((x) => x.world === w.id && x.condition === 'the component of this world answers');
        assert.deepEqual((r?.observations[0] as any)?.response?.body?.world, w.id);
      }
    });

    test('2026-01-03: the component reads company-name (and has no user-type)', () => {
      const u = userObservation('2026-01-03', 'user.get-user');
      assert.deepEqual(Object.keys(u).sort(), ['companyName', 'tenantId', 'userEmail', 'userId', 'userName']);
      assert.equal(u.companyName, 'Acme Corp');
    });

    test('2026-01-30: user-data with client-name, user-type and client-id', () => {
      const u = userObservation('2026-01-30', 'user.get-user');
      assert.deepEqual(Object.keys(u).sort(), ['clientId', 'clientName', 'tenantId', 'userEmail', 'userId', 'userName', 'userType']);
      assert.equal(u.clientId, 'client-1');
    });

    test('2026-02-04: user and user-v2 both with 7 fields', () => {
      for (const fn of ['user.get-user', 'user-v2.get-user']) {
        const u = userObservation('2026-02-04', fn);
        assert.equal(Object.keys(u).length, 7, fn);
        assert.equal(u.clientName, 'Acme Corp');
      }
    });

    test('today: user-data has 6 fields, user-data-v2 adds client-id and additional-fields', () => {
      assert.deepEqual(Object.keys(userObservation('current', 'user.get-user')).sort(), ['clientName', 'tenantId', 'userEmail', 'userId', 'userName', 'userType']);
      const v2 = userObservation('current', 'user-v2.get-user');
      assert.deepEqual(v2.additionalFields, [['team', 'blue']]);
      assert.equal(v2.clientId, 'client-1');
    });
  });
});
