/**
 * The test kit's own tests, written once for any test runner: kit.test.ts runs them on node:test,
 * vitest.test.ts under vitest (test/testing/vitest/kit.spec.mjs). They use the probe component
 * (components/scheduler-probe), whose POST /probe runs WIT calls named in JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestRuntime, TestRuntimeError, type TestRuntime, type TestRuntimeOptions } from '../../src/testing/index.js';
import { projectRoot } from '../support/components.js';

export interface SuiteHooks {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
}

const PROBE = () => join(projectRoot(), 'components', 'scheduler-probe');
const b64 = (s: string) => ({ $bytes: Buffer.from(s).toString('base64') });

type Call = { fn: string; args?: unknown[] };
async function probe(rt: TestRuntime, calls: Call[]): Promise<any[]> {
  const res = await rt.request('POST', '/probe', { body: { calls } });
  assert.equal(res.status, 200, await res.text());
  return (await res.json()).results;
}

async function withRuntime<T>(o: Partial<TestRuntimeOptions>, fn: (rt: TestRuntime) => Promise<T>): Promise<T> {
  const rt = await createTestRuntime({ extension: PROBE(), databaseUrl: process.env.ALGA_TEST_DATABASE_URL, ...o });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

export function kitSuite({ describe, test }: SuiteHooks): void {
  describe('createTestRuntime', () => {
    test('two runtimes created in parallel are isolated: schedules and storage of one are not the other\'s', async () => {
      const [a, b] = await Promise.all([
        createTestRuntime({ extension: PROBE(), databaseUrl: process.env.ALGA_TEST_DATABASE_URL }),
        createTestRuntime({ extension: PROBE(), databaseUrl: process.env.ALGA_TEST_DATABASE_URL }),
      ]);
      try {
        const [put, created] = await probe(a, [
          { fn: 'storage.put', args: [{ namespace: 'kit', key: 'k', value: b64('one'), revision: null }] },
          { fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /time', cron: '0 3 * * *', name: 'only-a' }] },
        ]);
        assert.ok(put.ok, JSON.stringify(put));
        assert.equal(created.ok?.success, true, JSON.stringify(created));
        const got = await a.storage('kit').get('k');
        assert.equal(Buffer.from(got!.value).toString(), 'one');
        assert.equal(got!.revision, 1);
        assert.deepEqual((await a.schedules()).map((s: any) => s.name), ['only-a']);
        assert.equal(await b.storage('kit').get('k'), undefined);
        assert.deepEqual(await b.schedules(), []);
        assert.notEqual(a.installId, b.installId);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('advanceClock across a DST change fires exactly the zone\'s occurrences, at their instants, with the guest\'s clock there', async () => {
      // America/New_York springs forward on 2030-03-10: 09:00 is 14:00Z before it and 13:00Z after.
      await withRuntime({ clock: { start: '2030-03-09T08:00:00-05:00' } }, async (rt) => {
        const [c] = await probe(rt, [{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /time', cron: '0 9 * * *', timezone: 'America/New_York' }] }]);
        assert.equal(c.ok?.success, true, JSON.stringify(c));
        const runs = await rt.advanceClock('2030-03-11T10:00:00-04:00');
        assert.deepEqual(runs.map((r) => r.occurrence), ['2030-03-09T14:00:00.000Z', '2030-03-10T13:00:00.000Z', '2030-03-11T13:00:00.000Z']);
        for (const r of runs) {
          assert.equal(r.status, 'success', r.error ?? '');
          assert.equal(r.endpoint, 'GET /time');
          // What the guest's Date.now() read while it ran: the occurrence, not the wall clock.
          const seen = Date.parse(JSON.parse(r.response!).iso);
          assert.ok(Math.abs(seen - Date.parse(r.occurrence)) < 60_000, `guest read ${r.response} during the ${r.occurrence} run`);
        }
        assert.equal(rt.now().toISOString(), '2030-03-11T14:00:00.000Z');
      });
    });

    test('advanceClock steps through every due occurrence in order; more than maxRuns is refused before anything runs', async () => {
      await withRuntime({ clock: { start: '2030-06-01T10:00:00Z' }, maxRuns: 12 }, async (rt) => {
        await probe(rt, [{ fn: 'scheduler.create-schedule', args: [{ endpoint: 'GET /counter', cron: '*/5 * * * *' }] }]);
        await assert.rejects(rt.advanceClock('2030-06-01T11:05:00Z'), (e: Error) => {
          assert.ok(e instanceof TestRuntimeError);
          assert.match(e.message, /would run more than maxRuns \(12\) scheduled occurrences .*nothing ran/);
          return true;
        });
        assert.equal(rt.now().toISOString(), '2030-06-01T10:00:00.000Z');
        const runs = await rt.advanceClock('2030-06-01T11:00:00Z');
        const expected = Array.from({ length: 12 }, (_, i) => new Date(Date.parse('2030-06-01T10:05:00Z') + i * 300_000).toISOString());
        assert.deepEqual(runs.map((r) => r.occurrence), expected);
        assert.ok(runs.every((r) => r.status === 'success' && r.httpStatus === 200));
        assert.deepEqual(await rt.advanceClock('2030-06-01T11:04:59Z'), []);
      });
    });

    test('secrets reach the guest; grants replace the manifest\'s capabilities and a denied call is named in logs()', async () => {
      await withRuntime({ secrets: { API_KEY: 'k-123' } }, async (rt) => {
        const [s] = await probe(rt, [{ fn: 'secrets.get', args: ['API_KEY'] }]);
        assert.deepEqual(s, { ok: 'k-123' });
      });
      await withRuntime({ grants: ['cap:log.emit'] }, async (rt) => {
        const [l] = await probe(rt, [{ fn: 'scheduler.list-schedules' }]);
        assert.deepEqual(l, { err: 'denied' });
        assert.ok(rt.logs().some((x) => x.level === 'warn' && /cap:scheduler\.manage not granted/.test(x.message)), JSON.stringify(rt.logs()));
      });
    });

    test('platformData, as a file or as the object: the clients the guest\'s clients interface lists', async () => {
      await withRuntime({ platformData: join(projectRoot(), 'examples', 'platform-data.json') }, async (rt) => {
        const [r] = await probe(rt, [{ fn: 'clients.list-clients', args: [{}] }]);
        assert.deepEqual(r.ok.items.map((c: any) => c.clientName), ['Acme Corporation', 'Globex', 'Jane Doe']);
      });
      const solo = { clientId: '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e99', clientName: 'Solo Ltd', clientType: 'company', isInactive: false };
      await withRuntime({ platformData: { clients: [solo], services: [] } }, async (rt) => {
        const [r] = await probe(rt, [{ fn: 'clients.list-clients', args: [{}] }]);
        assert.deepEqual(r.ok.items.map((c: any) => c.clientName), ['Solo Ltd']);
      });
    });

    test('errors that help: an unknown grant, an undeclared endpoint, a source that does not build (file:line)', async () => {
      await assert.rejects(createTestRuntime({ extension: PROBE(), grants: ['cap:storage.kvv'] }), /unknown capability in grants: cap:storage\.kvv/);
      await withRuntime({}, async (rt) => {
        await assert.rejects(rt.request('GET', '/nope'), /GET \/nope is not an endpoint of com\.alga\.test\.scheduler-probe \(manifest\.json declares: .*POST \/probe, /);
      });
      const dir = join(tmpdir(), `alga-kit-broken-${process.pid}`);
      mkdirSync(join(dir, 'src'), { recursive: true });
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ name: 'com.example.broken', publisher: 'com.example', version: '0.0.1', runtime: 'wasm-js@1', main: 'dist/main.wasm', capabilities: [], api: { endpoints: [] } }));
      writeFileSync(join(dir, 'src', 'index.ts'), 'export function handler() {\n  return {{;\n}\n');
      try {
        await assert.rejects(createTestRuntime({ extension: dir }), (e: Error) => e.message.includes(`${join(dir, 'src', 'index.ts')}:2:`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('close leaves no handle open: a process that creates a runtime on the embedded cluster and closes it exits by itself, and its cluster goes away', async () => {
      const script = `import { createTestRuntime } from ${JSON.stringify(join(projectRoot(), 'dist', 'src', 'testing', 'index.js'))};
const rt = await createTestRuntime({ extension: ${JSON.stringify(PROBE())} });
const res = await rt.request('GET', '/counter');
await rt.close();
console.log('closed ' + res.status + ' ' + (await res.text()));
`;
      const file = join(tmpdir(), `alga-kit-close-${process.pid}.mjs`);
      writeFileSync(file, script);
      const child = spawn(process.execPath, [file], { cwd: projectRoot(), env: { ...process.env, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      // Guards, not measurements. Until it has closed the runtime the process starts a cluster and
      // loads the component (minutes on a loaded machine); once closed, a process held open by a
      // handle never exits, one that is not exits at once.
      let guard = setTimeout(() => child.kill('SIGKILL'), 600_000);
      let closed = false;
      child.stdout.on('data', (d) => {
        out += d;
        if (!closed && out.includes('closed ')) {
          closed = true;
          clearTimeout(guard);
          guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
        }
      });
      child.stderr.on('data', (d) => (out += d));
      const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      clearTimeout(guard);
      rmSync(file, { force: true });
      assert.equal(signal, null, closed ? `the process did not exit by itself (killed 60 s after it closed the runtime): ${out}` : `the process never closed its runtime: ${out}`);
      assert.equal(code, 0, out);
      assert.match(out, /closed 200/);
      const folders = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`alga-testing-pg-${child.pid}-`));
      for (let i = 0; folders().length > 0 && i < 600; i++) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(folders(), [], 'the reaper removed the cluster folder');
      assert.equal(existsSync(join(tmpdir(), `alga-testing-pg-${child.pid}`)), false);
    });
  });
}
