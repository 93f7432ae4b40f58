/** A small HTTP server with one error handler, used by the platform and by the runner service. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from './logger.js';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from './db-outage.js';
import { excerpt } from './excerpt.js';
import { HttpError, sendJson } from './http-error.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface Route {
  method?: string;
  /** Exact path, or a prefix when it ends with '/'. */
  path: string;
  handle: RouteHandler;
}

/** One error handler: known errors answer as themselves; anything else is logged and answers a
 * generic 500 (no stack leaves the process). */
export function createHttpServer(routes: Route[], logger: Logger): Server {
  return createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // An absolute-form request target Node accepts but URL refuses (`GET http://a:99999/`):
      // a throw here would escape the request listener and end the process.
      sendJson(res, 400, { error: 'bad_request', message: 'Invalid request URL' });
      return;
    }
    // Postgres refuses NUL in text: a name, id or tenant carrying one is the client's mistake (400),
    // refused here once rather than as a database error in every route behind.
    if (/%00|\0/i.test(req.url ?? '')) {
      sendJson(res, 400, { error: 'bad_request', message: 'The request URL contains a NUL byte' });
      return;
    }
    const route = routes.find(
      (r) => (r.path.endsWith('/') ? url.pathname.startsWith(r.path) : url.pathname === r.path) && (!r.method || r.method === req.method),
    );
    const work = route
      ? route.handle(req, res, url)
      : Promise.reject(new HttpError(404, 'not_found', `no route for ${req.method} ${excerpt(url.pathname, 200)}`));
    work.catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendJson(res, err.status, { error: err.code, message: err.message, details: err.details });
        return;
      }
      if (isDatabaseUnavailable(err)) {
        logger.warn('database unavailable', { path: url.pathname, error: (err as Error)?.message ?? String(err) });
        sendJson(res, 503, { error: 'service_unavailable', message: 'The database is unreachable; retry later' }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
        return;
      }
      if (isClientDataError(err)) {
        sendJson(res, 400, { error: 'bad_request', message: 'The request carries text the database cannot store (a NUL byte or invalid encoding)' });
        return;
      }
      if (err instanceof URIError) {
        sendJson(res, 400, { error: 'bad_request', message: 'Malformed percent-encoding in the request' });
        return;
      }
      logger.error('unexpected error', { path: url.pathname, error: (err as Error)?.message ?? String(err) });
      sendJson(res, 500, { error: 'internal_error', message: 'Internal error' });
    });
  });
}

/** Postgres's "invalid byte sequence" (22021) and "untranslatable character" (22P05): bad client text. */
function isClientDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22P05';
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
