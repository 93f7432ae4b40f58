/**
 * kv-notes — a small notes API on the SDK's storage and secrets wrappers (cap:storage.kv,
 * cap:secrets.get), the example to copy for a key-value extension.
 *
 * - GET    /notes             every note, in id order (all pages of the namespace: `storage.entries`)
 * - GET    /notes/:id         `{ id, note, revision }`; 404 when there is none
 * - PUT    /notes/:id         body `{ "text": "…", "revision"?: N }`; with the revision it read, only
 *                            if nobody wrote since (409 otherwise); answers `{ id, revision }` (the
 *                            gateway passes few headers, so the revision travels in the body)
 * - DELETE /notes/:id         204; 404 when there is none
 * - GET    /config            which secrets the install has (names only) and whether `api_key` is set;
 *                            never a value
 *
 * Every host failure is a JSON error with a fitting status (`statusForStorageError`), never a trap.
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { Router, json, log, secrets, statusForStorageError, storage, type StorageError } from '../../sdk/host-bindings';

const NS = 'notes';

interface Note {
  text: string;
}

const failure = (e: StorageError | 'invalid-json') => json(statusForStorageError(e), { error: e });

const app = new Router()
  .get('/notes', () => {
    const r = storage.entries(NS);
    if (!r.ok) return failure(r.error);
    const decoder = new TextDecoder();
    const notes = r.value.map((e) => ({ id: e.key, note: JSON.parse(decoder.decode(e.value)) as Note, revision: Number(e.revision ?? 0) }));
    return json(200, { notes });
  })
  .get('/notes/:id', (req) => {
    const r = storage.getJson<Note>(NS, req.params.id!);
    return r.ok ? json(200, { id: req.params.id, note: r.value.value, revision: Number(r.value.revision ?? 0) }) : failure(r.error);
  })
  .put('/notes/:id', (req) => {
    const body = req.json<{ text?: unknown; revision?: unknown }>();
    if (!body || typeof body.text !== 'string') return json(400, { error: 'bad_request', message: 'body must be {"text": "…", "revision"?: N}' });
    const rev = body.revision;
    if (rev !== undefined && !(typeof rev === 'number' && Number.isSafeInteger(rev) && rev >= 0)) return json(400, { error: 'bad_request', message: 'revision must be a whole number' });
    const r = storage.putJson(NS, req.params.id!, { text: body.text }, { revision: rev === undefined ? undefined : BigInt(rev) });
    if (!r.ok) return failure(r.error);
    log.info(`note ${req.params.id} saved`);
    return json(200, { id: req.params.id, revision: Number(r.value.revision ?? 0) });
  })
  .delete('/notes/:id', (req) => {
    const r = storage.delete(NS, req.params.id!);
    // The contract answers `conflict` for a key that is not there.
    if (!r.ok) return r.error === 'conflict' ? json(404, { error: 'missing' }) : failure(r.error);
    return { status: 204, headers: [], body: undefined };
  })
  .get('/config', () => {
    const key = secrets.get('api_key');
    return json(200, { secretKeys: secrets.keys(), apiKeySet: key.ok, apiKeyError: key.ok ? null : key.error });
  });

export function handler(request: ExecuteRequest): ExecuteResponse {
  return app.handle(request);
}
