/**
 * A whole platform for end-to-end tests, started through the same entry point the CLI uses
 * (`startPlatform`), on its own database, with HTTP on a loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startPlatform, type Platform, type PlatformOptions } from '../../src/platform.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { projectRoot } from './components.js';

export interface TestPlatform {
  platform: Platform;
  db: TestDatabase;
  url: string;
  /** Installs components/<name> for a tenant (built from source, cached across test runs). */
  install(name: 'scheduler-demo' | 'scheduler-probe' | 'kv-notes', o?: { tenantId?: string; grant?: string[] }): Promise<{ installId: string; registryId: string; extensionName: string }>;
  /** An HTTP call through the gateway: /api/ext/<extension><path>. */
  call(method: string, extension: string, path: string, o?: { tenant?: string; body?: unknown }): Promise<{ status: number; json: any; text: string }>;
  /** Runs WIT calls inside the probe component (installed for `tenant`) and returns what it observed. */
  probe(calls: { fn: string; args?: unknown[] }[], o?: { tenant?: string }): Promise<any[]>;
  stop(): Promise<void>;
}

export async function startTestPlatform(opts: Partial<PlatformOptions> = {}): Promise<TestPlatform> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'alga-e2e-'));
  const platform = await startPlatform({
    databaseUrl: db.url,
    dataDir,
    cacheDir: join(projectRoot(), '.alga', 'cache'),
    port: 0,
    logger: silentLogger,
    ...opts,
  });
  const url = platform.url!;
  const names = new Map<string, string>();
  const tp: TestPlatform = {
    platform,
    db,
    url,
    async install(name, o = {}) {
      const r = await platform.installDir(join(projectRoot(), 'components', name), { tenantId: o.tenantId, grant: o.grant });
      names.set(name, r.extension.manifest.name);
      return { installId: r.installId, registryId: r.registryId, extensionName: r.extension.manifest.name };
    },
    async call(method, extension, path, o = {}) {
      const headers: Record<string, string> = {};
      if (o.tenant) headers['x-alga-tenant'] = o.tenant;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
      }
      const res = await request(`${url}/api/ext/${encodeURIComponent(extension)}${path}`, { method: method as 'GET', headers, body });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json, text };
    },
    async probe(calls, o = {}) {
      const r = await tp.call('POST', 'com.alga.test.scheduler-probe', '/probe', { tenant: o.tenant, body: { calls } });
      if (r.status !== 200 || !Array.isArray(r.json?.results)) throw new Error(`probe failed: HTTP ${r.status} ${r.text}`);
      return r.json.results;
    },
    async stop() {
      await platform.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return tp;
}
