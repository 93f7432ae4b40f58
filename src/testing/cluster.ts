/**
 * The test kit's PostgreSQL: one server per test process — `DATABASE_URL` when set, else an embedded
 * cluster started on first use in a temporary folder — and a database of its own per runtime, so
 * runtimes in parallel tests never see each other's rows. The embedded cluster never holds the
 * process open (its child process is detached from the event loop); a small detached reaper stops
 * it and removes its folder once the test process is gone, however it ended.
 * On the embedded cluster a database is a copy of a template that already has the migrations and
 * the job queue's schema (much cheaper than migrating each one).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPool, migrate } from '../server/db/database.js';
import { startEmbeddedPostgres } from '../server/db/embedded.js';
import { createPgBossQueue } from '../server/execution/queue.js';
import { processAlive } from '../shared/process-alive.js';

interface Server {
  /** Connection string of the server's maintenance database. */
  url: string;
  /** A migrated database to copy, on the embedded cluster. */
  template?: string;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

const FOLDER_PREFIX = 'alga-testing-pg-';
const TEMPLATE = 'alga_testing_template';
const servers = new Map<string, Promise<Server>>();
let chain: Promise<unknown> = Promise.resolve();

function withUrlDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Folders of clusters whose test process died before its reaper could remove them. */
function sweepStale(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = name.startsWith(FOLDER_PREFIX) ? /^(\d+)-/.exec(name.slice(FOLDER_PREFIX.length)) : null;
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

async function startEmbedded(): Promise<Server> {
  sweepStale();
  const folder = join(tmpdir(), `${FOLDER_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(folder, { recursive: true });
  chmodSync(folder, 0o755); // as root, the cluster's own user must be able to enter it
  const cluster = await startEmbeddedPostgres({ dataDir: folder, ephemeral: true });
  cluster.detach();
  if (cluster.pid) {
    const pid = cluster.pid;
    const reaper = spawn(process.execPath, [fileURLToPath(new URL('./cluster-reaper.js', import.meta.url)), String(process.pid), String(pid), folder], {
      detached: true,
      stdio: 'ignore',
    });
    reaper.unref();
    // A normal exit stops the cluster at once; the reaper then removes the folder.
    process.once('exit', () => {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* gone */
      }
    });
  }
  // The template: migrations applied and the job queue's schema created once.
  await admin(cluster.url, (c) => c.query(`CREATE DATABASE ${TEMPLATE}`));
  const url = withUrlDatabase(cluster.url, TEMPLATE);
  const pool = createPool(url, 2);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  const queue = await createPgBossQueue({ databaseUrl: url, retry: { maxAttempts: 1, retryDelaySeconds: 1, expireInSeconds: 60 } });
  await queue.stop();
  return { url: cluster.url, template: TEMPLATE };
}

function server(databaseUrl: string | undefined): Promise<Server> {
  const key = databaseUrl ?? 'embedded';
  let s = servers.get(key);
  if (!s) {
    s = databaseUrl ? Promise.resolve({ url: databaseUrl }) : startEmbedded();
    servers.set(key, s);
    s.catch(() => servers.delete(key));
  }
  return s;
}

/** One statement at a time on the server: CREATE DATABASE … TEMPLATE refuses while the template is in use. */
function serially<T>(fn: () => Promise<T>): Promise<T> {
  const p = chain.then(fn);
  chain = p.catch(() => {});
  return p;
}

/** Per component: the template plus its stored bytes, so a runtime's registration does not send them again. */
const bundleTemplates = new Map<string, Promise<string>>();
function bundleTemplate(s: Server, bundle: { contentHash: string; bytes: Uint8Array }): Promise<string> {
  let t = bundleTemplates.get(bundle.contentHash);
  if (!t) {
    const name = `${TEMPLATE}_${bundle.contentHash.replace(/^sha256:/, '').slice(0, 16)}`;
    t = (async () => {
      await serially(() => admin(s.url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${s.template} STRATEGY FILE_COPY`)));
      await admin(withUrlDatabase(s.url, name), (c) =>
        c.query(`INSERT INTO extension_bundle_blob (content_hash, bytes) VALUES ($1, $2)`, [bundle.contentHash, Buffer.from(bundle.bytes)]),
      );
      return name;
    })();
    bundleTemplates.set(bundle.contentHash, t);
    t.catch(() => bundleTemplates.delete(bundle.contentHash));
  }
  return t;
}

/**
 * A new database (migrated on the embedded cluster; `startPlatform` migrates one on `DATABASE_URL`).
 * With `bundle`, on the embedded cluster, the component's bytes are already stored in it.
 */
export async function createTestDatabase(databaseUrl?: string, bundle?: { contentHash: string; bytes: Uint8Array }): Promise<TestDatabase> {
  const s = await server(databaseUrl);
  const name = `alga_rt_${randomBytes(6).toString('hex')}`;
  const template = s.template && bundle ? await bundleTemplate(s, bundle) : s.template;
  await serially(() => admin(s.url, (c) => c.query(template ? `CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY` : `CREATE DATABASE ${name}`)));
  return {
    url: withUrlDatabase(s.url, name),
    drop: () => admin(s.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
