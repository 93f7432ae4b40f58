import { createConnection } from 'node:net';
import pg from 'pg';
import { migrations } from './migrations/index.js';

export type Queryable = pg.Pool | pg.PoolClient;

/** `more`: a sandbox worker's pool closes idle connections, names itself and never holds its thread open. */
export function createPool(connectionString: string, max = 10, more: Pick<pg.PoolConfig, 'idleTimeoutMillis' | 'allowExitOnIdle' | 'application_name'> = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, ...more });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  // Nor one between owners: a read that brings a query's last answer and the server's goodbye hands
  // the client to a waiting `await pool.connect()` before that caller can listen. Its next query fails.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** The caller went away (an execution timed out) before the transaction committed. */
export class TransactionCancelledError extends Error {
  constructor() {
    super('cancelled: the caller went away before the change was committed');
  }
}

/** The pool's connection, or TransactionCancelledError as soon as `signal` fires while waiting for one. */
function connect(pool: pg.Pool, signal?: AbortSignal): Promise<pg.PoolClient> {
  const p = pool.connect();
  if (!signal) return p;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new TransactionCancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (client) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) client.release(); // came after the caller left
        else resolve(client);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Asks the server to cancel the statement this client is running: PostgreSQL's CancelRequest (its
 * own short connection carrying the backend's pid and secret key, no authentication). A statement
 * waiting on a lock or a slow plan ends at once with an error, instead of when it would have finished.
 */
function cancelRunningStatement(client: pg.PoolClient): void {
  const { processID, secretKey, host, port } = client as pg.PoolClient & { processID: number | null; secretKey: number | null };
  if (processID === null || secretKey === null) return;
  const msg = Buffer.alloc(16);
  msg.writeInt32BE(16, 0);
  msg.writeInt32BE(80877102, 4); // the CancelRequest code
  msg.writeInt32BE(processID, 8);
  msg.writeInt32BE(secretKey, 12);
  const socket = host?.startsWith('/') ? createConnection(`${host}/.s.PGSQL.${port}`) : createConnection(port, host);
  socket.on('error', () => {}); // best effort: the transaction still rolls back when the statement ends
  socket.on('connect', () => socket.end(msg));
}

/**
 * The transaction around `body`, which must start it (send BEGIN): ROLLBACK when body throws or when
 * `signal` fires (a host call whose execution was stopped leaves nothing behind), COMMIT otherwise.
 * A signal that fires while a statement runs cancels that statement at once, so the transaction
 * ends at the caller's deadline, not when its statement would have finished.
 */
async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) throw new TransactionCancelledError();
  const client = await connect(pool, signal);
  // A connection dropped between two queries emits 'error' on the checked-out client; unheard, it
  // ends the process. The next query fails and the transaction throws instead.
  const onLost = () => {};
  client.on('error', onLost);
  let cancelSent = false;
  const onAbort = () => {
    cancelSent = true;
    cancelRunningStatement(client);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw new TransactionCancelledError();
    const result = await body(client);
    if (signal?.aborted) throw new TransactionCancelledError();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw signal?.aborted ? new TransactionCancelledError() : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A cancel request may still be on its way to the server: it could hit the next statement
    // sent on this connection, so the connection is closed rather than pooled (closing rolls back
    // anything the ROLLBACK above did not).
    client.release(cancelSent);
    if (!cancelSent) client.off('error', onLost); // a closing connection may still report an error
  }
}

/** Runs fn in one transaction; rolls back on any throw and rethrows, or when `signal` fired. */
export function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
  return inTransaction(
    pool,
    async (client) => {
      await client.query('BEGIN');
      return fn(client);
    },
    signal,
  );
}

/** A SQL literal for the simple query protocol (no `$n` there): NULL, a boolean, a finite number, or
 * text escaped by pg's own escapeLiteral. Text with NUL is refused (it would cut the query short;
 * callers validate it away first). */
export function sqlLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not a SQL number: ${value}`);
    return String(value);
  }
  if (value.includes('\0')) throw new TypeError('a SQL literal cannot contain NUL');
  return pg.escapeLiteral(value);
}

/**
 * One statement in its own transaction, in two round trips instead of three: `BEGIN; statement`
 * goes as one simple-protocol message (so the statement carries its values as sqlLiteral()s), then
 * COMMIT or ROLLBACK as withTransaction.
 */
export function withOneStatementTransaction(pool: pg.Pool, statement: string, signal?: AbortSignal): Promise<pg.QueryResult> {
  return inTransaction(
    pool,
    async (client) => ((await client.query(`BEGIN; ${statement}`)) as unknown as pg.QueryResult[])[1]!,
    signal,
  );
}

const MIGRATION_LOCK = 7_310_442_001; // advisory lock id: one migrator at a time across processes

/** Applies pending migrations; safe to call from several processes at once. */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS alga_runner_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ id: string }>('SELECT id FROM alga_runner_migrations')).rows.map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.up);
        await client.query('INSERT INTO alga_runner_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.id} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
  return applied;
}
