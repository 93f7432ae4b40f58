/**
 * Production's internal storage API (docs/production-contract.md#storage), shared by the runner
 * (which calls it) and the platform (which serves it): the body posted to
 * `POST /api/internal/ext-storage/install/{installId}`, and the answer.
 */
export const STORAGE_ROUTE_PREFIX = '/api/internal/ext-storage/install/';

/** What the runner sends for each WIT function (the route accepts more: ttlSeconds, limit, bulkPut…). */
export type StorageRequest =
  | { operation: 'get'; namespace: string; key: string }
  | { operation: 'put'; namespace: string; key: string; value: string; metadata: { encoding: 'base64-bytes' }; ifRevision?: number }
  | { operation: 'delete'; namespace: string; key: string }
  | { operation: 'list'; namespace: string; includeValues: true; includeMetadata: true; cursor?: string };

/** HTTP status and parsed JSON body (null for an empty body), whether over HTTP or in-process. */
export interface StorageReply {
  status: number;
  body: unknown;
}

/** Production's list cursor: base64url of `{"key": <the key to continue from>}`. */
export function encodeStorageCursor(key: string): string {
  return Buffer.from(JSON.stringify({ key }), 'utf8').toString('base64url');
}
