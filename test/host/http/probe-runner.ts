/** A runner over the probe component, for host-side tests that need the real WIT boundary. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunner, type Runner, type RunnerOptions } from '../../../src/host/runner.js';
import { contentHashOf } from '../../../src/shared/content-hash.js';
import { buildTestComponent, projectRoot } from '../../support/components.js';

export interface ProbeRunner {
  runner: Runner;
  contentHash: string;
  /** Runs WIT calls in the probe; returns its `results`. */
  probe(calls: { fn: string; args?: unknown[] }[], o?: { providers?: string[]; installId?: string | null }): Promise<any[]>;
}

export async function startProbeRunner(opts: Partial<RunnerOptions> = {}): Promise<ProbeRunner> {
  const built = await buildTestComponent('scheduler-probe');
  const bytes = new Uint8Array(readFileSync(built.wasmPath));
  const contentHash = contentHashOf(bytes);
  const runner = createRunner({
    cacheDir: join(projectRoot(), '.alga', 'cache'),
    components: { load: async ({ contentHash: h }) => (h === contentHash ? bytes : null) },
    ...opts,
  });
  return {
    runner,
    contentHash,
    async probe(calls, o = {}) {
      const out = await runner.execute(
        { 'x-alga-tenant': 't1', 'x-alga-extension': 'e1' },
        {
          context: { tenant_id: 't1', extension_id: 'e1', install_id: o.installId === null ? undefined : (o.installId ?? '22222222-2222-4222-8222-222222222222'), content_hash: contentHash },
          http: { method: 'POST', path: '/probe', body_b64: Buffer.from(JSON.stringify({ calls })).toString('base64') },
          providers: o.providers ?? ['cap:scheduler.manage'],
        },
      );
      if (out.error || out.status !== 200) throw new Error(`probe failed: ${out.status} ${out.error}`);
      return JSON.parse(Buffer.from(out.body_b64!, 'base64').toString('utf8')).results;
    },
  };
}
