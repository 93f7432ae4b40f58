/**
 * `alga-runner dev`'s hot swap against the build it follows, for the sample: an edit of the handler
 * (a new marker each round, so componentize really runs), then the time from the finished build to
 * the first answer from the new code over HTTP (check, register, warm, request) ÷ the build's own
 * time. Target ≤ 0.2. In-process platform, Postgres embedded (or $DATABASE_URL's).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPlatform } from '../src/platform.js';
import { startDevSession } from '../src/dev/session.js';
import { silentLogger } from '../src/shared/logger.js';
import { CACHE_DIR, ROOT, tempDir } from './support.js';

const at = process.argv.indexOf('--rounds');
const ROUNDS = at > 0 ? Number(process.argv[at + 1]) : 3;
const work = tempDir('alga-bench-swap-');
chmodSync(work, 0o755); // the embedded cluster's postgres user (when run as root) must reach it
cpSync(join(ROOT, 'components', 'scheduler-demo'), join(work, 'components', 'scheduler-demo'), { recursive: true });
cpSync(join(ROOT, 'components', 'sdk'), join(work, 'components', 'sdk'), { recursive: true });
const dir = join(work, 'components', 'scheduler-demo');
const src = join(dir, 'src', 'index.ts');
const original = readFileSync(src, 'utf8');

const platform = await startPlatform({ dataDir: join(work, 'data'), cacheDir: CACHE_DIR, port: 0, logger: silentLogger, execution: { enabled: false } });
try {
  const session = await startDevSession(platform, { dir, build: { kind: 'auto' }, watch: false, say: () => {}, print: () => {} });
  const url = `${platform.url}/api/ext/${session.installed.extension.manifest.name}/api/status`;
  const rows: { buildMs: number; swapMs: number; ratio: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const marker = randomBytes(6).toString('hex');
    writeFileSync(src, original.replace("status: 'healthy',", `status: 'healthy',\n    marker: '${marker}',`));
    const r = await session.reload('bench edit');
    if (!r.ok) throw new Error(`reload failed: ${r.message}`);
    let answered = 0;
    for (let tries = 0; tries < 1000; tries++) {
      const body = (await (await fetch(url)).json()) as { marker?: string };
      if (body.marker === marker) {
        answered = performance.now();
        break;
      }
    }
    if (!answered) throw new Error('the new code never answered');
    const swapMs = answered - r.builtAt;
    rows.push({ buildMs: r.buildMs, swapMs, ratio: swapMs / r.buildMs });
    console.log(`round ${i + 1}: build ${(r.buildMs / 1000).toFixed(2)} s, finished build → first answer from the new code ${swapMs.toFixed(0)} ms, ratio ${(swapMs / r.buildMs).toFixed(3)} (check ${r.steps?.checkMs.toFixed(0)} ms, register + warm ${r.steps?.installMs.toFixed(0)} ms)`);
  }
  const ratios = rows.map((r) => r.ratio).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)]!;
  console.log(`median swap ÷ build: ${median.toFixed(3)} (target ≤ 0.2) ${median <= 0.2 ? 'PASS' : 'FAIL'}`);
  await session.close();
} finally {
  await platform.stop();
  rmSync(work, { recursive: true, force: true });
}
