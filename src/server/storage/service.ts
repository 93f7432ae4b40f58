/**
 * The per-install key-value store behind `cap:storage.kv` (docs/production-contract.md#storage):
 * production's validation, limits, quotas and error codes, each operation one SQL statement
 * (migration 005). get and list are one round trip; put, bulkPut and delete are two (`BEGIN;
 * statement`, then COMMIT or ROLLBACK), so a write whose caller went away (`signal`) is rolled back.
 */
import type pg from 'pg';
import { sqlLiteral, withOneStatementTransaction } from '../db/database.js';
import { encodeStorageCursor } from '../../shared/storage-api.js';

export type StorageErrorCode =
  | 'REVISION_MISMATCH'
  | 'QUOTA_EXCEEDED'
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'LIMIT_EXCEEDED'
  | 'NAMESPACE_DENIED'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR';

/** A refusal with production's code; the route turns it into `{error, code, details}`. */
export class StorageServiceError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export interface StorageQuota {
  maxNamespaces: number;
  maxKeysPerNamespace: number;
  maxValueBytes: number;
  maxMetadataBytes: number;
  maxBulkPayloadBytes: number;
  maxBulkItems: number;
  totalBytes: number;
}

/** Production's defaults. */
export const DEFAULT_STORAGE_QUOTA: StorageQuota = {
  maxNamespaces: 32,
  maxKeysPerNamespace: 5120,
  maxValueBytes: 64 * 1024,
  maxMetadataBytes: 4 * 1024,
  maxBulkPayloadBytes: 512 * 1024,
  maxBulkItems: 20,
  totalBytes: 256 * 1024 * 1024,
};
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;
export const DEFAULT_LIST_LIMIT = 25;

export interface PutItem {
  key: string;
  value?: unknown;
  metadata?: Record<string, unknown>;
  ttlSeconds?: number;
  ifRevision?: number;
}

export interface StoredRecord {
  namespace: string;
  key: string;
  revision: number;
  value: unknown;
  metadata: Record<string, unknown>;
  ttlExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WrittenRecord {
  key: string;
  revision: number;
  ttlExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ListRequest {
  namespace: string;
  limit?: number;
  cursor?: string;
  keyPrefix?: string;
  includeValues?: boolean;
  includeMetadata?: boolean;
}

export interface ListedRecord {
  tenantId: string;
  extensionInstallId: string;
  namespace: string;
  key: string;
  revision: number;
  value?: unknown;
  metadata?: Record<string, unknown>;
  ttlExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface StorageService {
  put(installId: string, namespace: string, item: PutItem, signal?: AbortSignal): Promise<WrittenRecord & { namespace: string }>;
  bulkPut(installId: string, namespace: string, items: PutItem[], signal?: AbortSignal): Promise<{ namespace: string; items: Pick<WrittenRecord, 'key' | 'revision' | 'ttlExpiresAt'>[] }>;
  get(installId: string, namespace: string, key: string, ifRevision?: number): Promise<StoredRecord>;
  delete(installId: string, namespace: string, key: string, ifRevision?: number, signal?: AbortSignal): Promise<boolean>;
  list(installId: string, request: ListRequest): Promise<{ items: ListedRecord[]; nextCursor: string | null }>;
}

export interface StorageServiceOptions {
  pool: pg.Pool;
  /** The platform clock (a manual one in tests): TTLs are set and expire against it. */
  now?: () => Date;
  quota?: Partial<StorageQuota>;
}

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

// Postgres text cannot hold NUL: refused up front (production answers 500 there).
function assertNoNul(what: string, s: string | undefined): void {
  if (s?.includes('\0')) throw new StorageServiceError('VALIDATION_FAILED', `${what} must not contain the NUL character`);
}

function assertNamespace(namespace: string): void {
  if (!namespace || namespace.length > 128) throw new StorageServiceError('VALIDATION_FAILED', 'namespace must be 1-128 characters');
  assertNoNul('namespace', namespace);
}

function assertKey(key: string): void {
  if (!key || key.length > 256 || key.includes('/')) {
    throw new StorageServiceError('VALIDATION_FAILED', 'key must be 1-256 characters and must not contain "/"');
  }
  assertNoNul('key', key);
}

function ttlExpiry(ttlSeconds: number | undefined, now: Date): Date | null {
  if (ttlSeconds === undefined) return null;
  if (!Number.isFinite(ttlSeconds)) throw new StorageServiceError('VALIDATION_FAILED', 'ttlSeconds must be numeric');
  if (ttlSeconds < MIN_TTL_SECONDS) throw new StorageServiceError('LIMIT_EXCEEDED', `ttlSeconds must be >= ${MIN_TTL_SECONDS}`);
  if (ttlSeconds > MAX_TTL_SECONDS) throw new StorageServiceError('LIMIT_EXCEEDED', `ttlSeconds must be <= ${MAX_TTL_SECONDS}`);
  return new Date(now.getTime() + ttlSeconds * 1000);
}

/**
 * Where a list continues: production's cursor (base64url of `{"key": …}`) means "after that key";
 * any other cursor is the last key the guest received (the WIT gives it no cursor of its own,
 * docs/differences.md#storage-paging).
 */
export function cursorKey(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (/^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && typeof (parsed as { key?: unknown }).key === 'string') return (parsed as { key: string }).key;
    } catch {
      // not production's form: the last key seen
    }
  }
  return cursor;
}

const likePrefix = (prefix: string) => `${prefix.replace(/\\/g, '\\\\').replace(/%/g, '\\%').replace(/_/g, '\\_')}%`;

/** The SQLSTATEs migration 005 raises, and Postgres refusing a value (class 22: data exception). */
function translate(e: unknown): unknown {
  const pgErr = e as { code?: string; message?: string; detail?: string };
  switch (pgErr?.code) {
    case 'AS404':
      return new StorageServiceError('NOT_FOUND', 'extension install not found');
    case 'AS401':
      return new StorageServiceError('UNAUTHORIZED', 'extension install is disabled');
    case 'AS409':
      return new StorageServiceError('REVISION_MISMATCH', 'ifRevision did not match stored revision');
    case 'AS429': {
      let details: unknown = null;
      try {
        details = pgErr.detail ? JSON.parse(pgErr.detail) : null;
      } catch {
        details = null;
      }
      return new StorageServiceError('QUOTA_EXCEEDED', pgErr.message ?? 'quota exceeded', details);
    }
  }
  // e.g. "\u0000" inside a value: jsonb cannot hold it (production answers 500 here).
  if (typeof pgErr?.code === 'string' && pgErr.code.startsWith('22')) {
    return new StorageServiceError('VALIDATION_FAILED', `value cannot be stored: ${pgErr.message}`);
  }
  return e;
}

async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw translate(e);
  }
}

interface ReadRow {
  out_tenant: string;
  out_key: string;
  out_revision: string;
  out_value: unknown;
  out_metadata: Record<string, unknown> | null;
  out_ttl_expires_at: Date | null;
  out_created_at: Date;
  out_updated_at: Date;
}
interface WriteRow {
  out_key: string;
  out_revision: string;
  out_ttl_expires_at: Date | null;
  out_created_at: Date;
  out_updated_at: Date;
}

export function createStorageService(opts: StorageServiceOptions): StorageService {
  const { pool } = opts;
  const now = opts.now ?? (() => new Date());
  const quota: StorageQuota = { ...DEFAULT_STORAGE_QUOTA, ...opts.quota };

  /** Checks an item as production does before its transaction; returns the row the SQL writes. */
  function prepare(item: PutItem, at: Date, limitMessage: (what: 'value' | 'metadata') => string) {
    assertKey(item.key);
    const ttl = ttlExpiry(item.ttlSeconds, at);
    const metadata = item.metadata ?? {};
    const valueSize = byteLength(item.value);
    const metadataSize = byteLength(metadata);
    if (valueSize > quota.maxValueBytes) throw new StorageServiceError('LIMIT_EXCEEDED', limitMessage('value'));
    if (metadataSize > quota.maxMetadataBytes) throw new StorageServiceError('LIMIT_EXCEEDED', limitMessage('metadata'));
    return {
      key: item.key,
      value: item.value ?? null,
      metadata,
      value_size: valueSize,
      metadata_size: metadataSize,
      ttl_expires_at: ttl ? ttl.toISOString() : null,
      if_revision: item.ifRevision ?? null,
    };
  }

  async function write(installId: string, namespace: string, items: ReturnType<typeof prepare>[], at: Date, signal?: AbortSignal): Promise<WriteRow[]> {
    const statement = `SELECT * FROM alga_storage_write(${sqlLiteral(installId)}, ${sqlLiteral(namespace)}, ${sqlLiteral(JSON.stringify(items))}::jsonb, ${sqlLiteral(at.toISOString())}::timestamptz, ${quota.maxNamespaces}, ${quota.maxKeysPerNamespace}, ${quota.totalBytes})`;
    return run(async () => (await withOneStatementTransaction(pool, statement, signal)).rows as WriteRow[]);
  }

  const written = (r: WriteRow): WrittenRecord => ({
    key: r.out_key,
    revision: Number(r.out_revision),
    ttlExpiresAt: r.out_ttl_expires_at,
    createdAt: r.out_created_at,
    updatedAt: r.out_updated_at,
  });

  async function read(installId: string, namespace: string, o: { key?: string; after?: string; like?: string; limit?: number }): Promise<ReadRow[]> {
    return run(async () => {
      const r = await pool.query<ReadRow>(`SELECT * FROM alga_storage_read($1, $2, $3, $4, $5, $6, $7)`, [
        installId, namespace, o.key ?? null, o.after ?? null, o.like ?? null, o.limit ?? null, now(),
      ]);
      return r.rows;
    });
  }

  return {
    async put(installId, namespace, item, signal) {
      assertNamespace(namespace);
      const at = now();
      const row = prepare(item, at, (what) =>
        what === 'value' ? `value exceeds max size of ${quota.maxValueBytes} bytes` : `metadata exceeds max size of ${quota.maxMetadataBytes} bytes`);
      const [out] = await write(installId, namespace, [row], at, signal);
      return { namespace, ...written(out!) };
    },

    async bulkPut(installId, namespace, items, signal) {
      assertNamespace(namespace);
      if (!Array.isArray(items) || items.length === 0) throw new StorageServiceError('VALIDATION_FAILED', 'items must contain at least one entry');
      if (items.length > quota.maxBulkItems) throw new StorageServiceError('LIMIT_EXCEEDED', `bulk operations limited to ${quota.maxBulkItems} items`);
      const keys = new Set<string>();
      let payload = 0;
      for (const item of items) {
        assertKey(item.key);
        if (keys.has(item.key)) throw new StorageServiceError('VALIDATION_FAILED', `duplicate key in bulk payload: ${item.key}`);
        keys.add(item.key);
        payload += byteLength(item.value) + byteLength(item.metadata ?? {});
      }
      if (payload > quota.maxBulkPayloadBytes) {
        throw new StorageServiceError('LIMIT_EXCEEDED', `bulk payload exceeds ${quota.maxBulkPayloadBytes} bytes (actual ${payload})`);
      }
      const at = now();
      const rows = items.map((item) => prepare(item, at, (what) => `${what} for key ${item.key} exceeds max size`));
      const out = await write(installId, namespace, rows, at, signal);
      if (out.length !== rows.length) throw new StorageServiceError('INTERNAL_ERROR', 'bulkPut returned unexpected row count');
      return { namespace, items: out.map((r) => ({ key: r.out_key, revision: Number(r.out_revision), ttlExpiresAt: r.out_ttl_expires_at })) };
    },

    async get(installId, namespace, key, ifRevision) {
      assertNamespace(namespace);
      assertKey(key);
      const [row] = await read(installId, namespace, { key });
      if (!row) throw new StorageServiceError('NOT_FOUND', 'record not found');
      const revision = Number(row.out_revision);
      if (ifRevision !== undefined && revision !== ifRevision) throw new StorageServiceError('REVISION_MISMATCH', 'ifRevision did not match stored revision');
      return {
        namespace,
        key: row.out_key,
        revision,
        value: row.out_value,
        metadata: row.out_metadata ?? {},
        ttlExpiresAt: row.out_ttl_expires_at,
        createdAt: row.out_created_at,
        updatedAt: row.out_updated_at,
      };
    },

    async delete(installId, namespace, key, ifRevision, signal) {
      assertNamespace(namespace);
      assertKey(key);
      const statement = `SELECT alga_storage_delete(${sqlLiteral(installId)}, ${sqlLiteral(namespace)}, ${sqlLiteral(key)}, ${ifRevision === undefined ? 'NULL' : sqlLiteral(ifRevision)}, ${sqlLiteral(now().toISOString())}::timestamptz) AS deleted`;
      return run(async () => (await withOneStatementTransaction(pool, statement, signal)).rows[0]!.deleted === true);
    },

    async list(installId, request) {
      assertNamespace(request.namespace);
      assertNoNul('cursor', request.cursor);
      assertNoNul('keyPrefix', request.keyPrefix);
      const limit = Math.min(Math.max(request.limit ?? DEFAULT_LIST_LIMIT, 1), 100);
      const rows = await read(installId, request.namespace, {
        after: cursorKey(request.cursor),
        like: request.keyPrefix ? likePrefix(request.keyPrefix) : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const items: ListedRecord[] = page.map((r) => ({
        tenantId: r.out_tenant,
        extensionInstallId: installId,
        namespace: request.namespace,
        key: r.out_key,
        revision: Number(r.out_revision),
        // Absent, not undefined: the in-process answer is the same as the JSON one.
        ...(request.includeValues ? { value: r.out_value } : {}),
        ...(request.includeMetadata ? { metadata: r.out_metadata ?? {} } : {}),
        ttlExpiresAt: r.out_ttl_expires_at,
        createdAt: r.out_created_at,
        updatedAt: r.out_updated_at,
      }));
      // The next page starts after the last row returned (production names the first row not
      // returned and so skips it: docs/differences.md#storage-paging).
      return { items, nextCursor: rows.length > limit ? encodeStorageCursor(page[page.length - 1]!.out_key) : null };
    },
  };
}

