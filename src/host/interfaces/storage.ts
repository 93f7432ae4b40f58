/**
 * `storage` (cap:storage.kv): each call becomes one request to the platform's storage API (in-process
 * or over HTTP, same shapes), and `replyToWit` is the one place where its answer becomes the WIT value,
 * as production's runner maps it (docs/production-contract.md#storage): 401/403/429 → denied, 404 →
 * missing, 409 → conflict, any other non-2xx → internal; delete answered `success: false` → conflict;
 * values decoded by production's rules. `list-entries` passes the guest's cursor through; our server
 * reads it as production's cursor or as the last key seen (docs/differences.md#storage-paging).
 */
import { err, ok, type ExecutionContext, type HostInterface, type OutcomeOf } from './types.js';
import { sortedJson, strictBase64 } from '../../shared/encoding.js';
import type { FunctionName } from '../world.js';
import type { StorageReply, StorageRequest } from '../ports.js';
import type { StorageEntry, StorageError } from '../wit-types/interfaces/alga-extension-types.js';

type StorageFn = FunctionName<'alga:extension/storage'>;
type StorageOutcome<F extends StorageFn> = OutcomeOf<'alga:extension/storage', F>;

/** Production's status mapping. */
export function statusToStorageError(status: number): StorageError {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status === 404) return 'missing';
  if (status === 409) return 'conflict';
  return 'internal';
}

const asObject = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/**
 * A stored value → the guest's bytes: `metadata.encoding == "base64-bytes"` → base64 (anything else is
 * `internal`); else an object with `_bytes_b64`; else a string, as base64 when it is that, else its
 * UTF-8; else the JSON text (keys sorted, as production serializes).
 */
export function decodeStorageValue(value: unknown, metadata: unknown): Uint8Array | undefined {
  if (asObject(metadata)?.encoding === 'base64-bytes') return typeof value === 'string' ? strictBase64(value) : undefined;
  const b64 = asObject(value)?._bytes_b64;
  if (typeof b64 === 'string') return strictBase64(b64);
  if (typeof value === 'string') return strictBase64(value) ?? new TextEncoder().encode(value);
  return new TextEncoder().encode(sortedJson(value === undefined ? null : value));
}

const u64 = (v: unknown): bigint | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined);

/** An entry of a get or list answer; undefined when production's runner would answer `internal`. */
function toEntry(raw: unknown, namespace?: string, key?: string): StorageEntry | undefined {
  const o = asObject(raw);
  if (!o) return undefined;
  const ns = typeof o.namespace === 'string' ? o.namespace : namespace;
  const k = typeof o.key === 'string' ? o.key : key;
  if (ns === undefined || k === undefined) return undefined;
  const value = decodeStorageValue(o.value ?? null, o.metadata);
  if (!value) return undefined;
  return { namespace: ns, key: k, value, revision: u64(o.revision) };
}

const succeeded = (reply: StorageReply) => reply.status >= 200 && reply.status < 300;

/** The one translation from the storage API's answer to the WIT value, per function. */
export const replyToWit = {
  get(reply: StorageReply, namespace: string, key: string): StorageOutcome<'get'> {
    if (!succeeded(reply)) return err(statusToStorageError(reply.status));
    const entry = toEntry(reply.body, namespace, key);
    return entry ? ok(entry) : err('internal');
  },
  put(reply: StorageReply, entry: StorageEntry): StorageOutcome<'put'> {
    if (!succeeded(reply)) return err(statusToStorageError(reply.status));
    return ok({ namespace: entry.namespace, key: entry.key, value: entry.value, revision: u64(asObject(reply.body)?.revision) });
  },
  delete(reply: StorageReply): StorageOutcome<'delete'> {
    if (!succeeded(reply)) return err(statusToStorageError(reply.status));
    return asObject(reply.body)?.success === false ? err('conflict') : ok(undefined);
  },
  listEntries(reply: StorageReply): StorageOutcome<'listEntries'> {
    if (!succeeded(reply)) return err(statusToStorageError(reply.status));
    const items = asObject(reply.body)?.items;
    const entries: StorageEntry[] = [];
    for (const item of Array.isArray(items) ? items : []) {
      const entry = toEntry(item);
      if (!entry) return err('internal'); // one bad item fails the call, as production
      entries.push(entry);
    }
    return ok(entries); // production's runner drops nextCursor: the WIT has no place for it
  },
};

/** The checks before any call, then the call; `internal` when the platform cannot be reached. */
async function call(ctx: ExecutionContext, request: StorageRequest, signal: AbortSignal): Promise<StorageReply | { refused: StorageError }> {
  if (!ctx.granted.has('cap:storage.kv')) {
    ctx.logger.warn('storage capability denied - cap:storage.kv not granted', { operation: request.operation });
    return { refused: 'denied' };
  }
  const installId = ctx.context.installId;
  if (!installId) return { refused: 'denied' };
  const backend = ctx.services.storage;
  if (!backend) return { refused: 'internal' };
  try {
    return await backend.call(installId, request, signal);
  } catch (e) {
    ctx.logger.error('storage_request error', { operation: request.operation, error: (e as Error).message });
    return { refused: 'internal' };
  }
}

const refused = (r: StorageReply | { refused: StorageError }): r is { refused: StorageError } => 'refused' in r;

/** A revision the guest holds → `ifRevision` (a u64 past 2^53 is sent rounded; the server refuses it either way). */
const ifRevision = (rev: bigint | undefined) => (rev === undefined ? {} : { ifRevision: Number(rev) });

export const storage: HostInterface<'alga:extension/storage'> = {
  functions: {
    get: async (ctx, [namespace, key], signal) => {
      const r = await call(ctx, { operation: 'get', namespace, key }, signal);
      return refused(r) ? err(r.refused) : replyToWit.get(r, namespace, key);
    },
    put: async (ctx, [entry], signal) => {
      const value = Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength).toString('base64');
      const request: StorageRequest = { operation: 'put', namespace: entry.namespace, key: entry.key, value, metadata: { encoding: 'base64-bytes' }, ...ifRevision(entry.revision) };
      const r = await call(ctx, request, signal);
      return refused(r) ? err(r.refused) : replyToWit.put(r, entry);
    },
    delete: async (ctx, [namespace, key], signal) => {
      const r = await call(ctx, { operation: 'delete', namespace, key }, signal);
      return refused(r) ? err(r.refused) : replyToWit.delete(r);
    },
    listEntries: async (ctx, [namespace, cursor], signal) => {
      const request: StorageRequest = { operation: 'list', namespace, includeValues: true, includeMetadata: true };
      if (cursor !== undefined) request.cursor = cursor;
      const r = await call(ctx, request, signal);
      return refused(r) ? err(r.refused) : replyToWit.listEntries(r);
    },
  },
  onInternalError: () => err('internal'),
};
