/**
 * A database that cannot be reached right now (refused, reset, shutting down, starting up): the
 * request may succeed later, so callers answer 503 with Retry-After instead of a 500.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
// Postgres: admin/crash shutdown, cannot connect now, connection exceptions (SQLSTATE 57P0x, 08xxx).
const SQLSTATES = /^(57P0[1-3]|08\w{3})$/;
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i;

export const RETRY_AFTER_SECONDS = 5;

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; errors?: unknown[]; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code) || SQLSTATES.test(code)) return true;
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
    // An AggregateError (several addresses refused) carries its causes in `errors`.
    if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
    e = e.cause as typeof e;
  }
  return false;
}
