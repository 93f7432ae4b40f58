/**
 * Production's internal storage route, `POST /api/internal/ext-storage/install/{installId}`
 * (docs/production-contract.md#storage), with `x-runner-auth`. A body that is not JSON is 400 (never
 * a 500); a runner that closes the request before the answer (its execution was stopped) rolls the
 * write back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Route } from '../../shared/http-server.js';
import { readBody } from '../../shared/read-body.js';
import { STORAGE_ROUTE_PREFIX } from '../../shared/storage-api.js';
import { handleStorageOperation, STORAGE_INVALID_JSON_REPLY, type StorageOperationDeps } from '../internal-api/storage-operation.js';
import { UNAUTHORIZED_REPLY } from '../internal-api/scheduler-operation.js';
import { authorized } from './internal-api.js';

// A value is at most 64 KiB of JSON and a bulkPut at most 512 KiB: room for escaping and the envelope.
const STORAGE_BODY_LIMIT = 2 * 1024 * 1024;

export interface StorageRouteOptions {
  storage: StorageOperationDeps;
  token: string | undefined;
  production?: boolean;
}

export function storageApiRoutes(opts: StorageRouteOptions): Route[] {
  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!authorized(req, opts.token, opts.production)) {
      sendJson(res, UNAUTHORIZED_REPLY.status, UNAUTHORIZED_REPLY.body);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, STORAGE_BODY_LIMIT)).toString('utf8'));
    } catch (e) {
      if (e instanceof HttpError && e.status === 413) {
        sendJson(res, 413, { error: 'Request body too large', code: 'PAYLOAD_TOO_LARGE', details: null });
        return;
      }
      sendJson(res, STORAGE_INVALID_JSON_REPLY.status, STORAGE_INVALID_JSON_REPLY.body);
      return;
    }
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const seg = url.pathname.slice(STORAGE_ROUTE_PREFIX.length).split('/')[0] ?? '';
    let installId = seg;
    try {
      installId = decodeURIComponent(seg);
    } catch {
      // keep the raw segment: it is not an install id and answers 404
    }
    const reply = await handleStorageOperation(opts.storage, installId, body, gone.signal);
    sendJson(res, reply.status, reply.body);
  }
  return [{ method: 'POST', path: STORAGE_ROUTE_PREFIX, handle }];
}
