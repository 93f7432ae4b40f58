/**
 * Production's internal storage route without its `x-runner-auth` check (the HTTP layer's job), usable
 * in-process with the same request objects (docs/production-contract.md#storage). Order: operation and
 * namespace → install id → the operation's schema → the service (which looks the install up in the
 * operation's own statement). Never throws; an unexpected failure is a 500 without details.
 */
import { z } from 'zod';
import { silentLogger, type Logger } from '../../shared/logger.js';
import type { StorageReply } from '../../shared/storage-api.js';
import { TransactionCancelledError } from '../db/database.js';
import { StorageServiceError, type StorageErrorCode, type StorageService } from '../storage/service.js';
import { isGuid } from '../../shared/uuid.js';

export interface StorageOperationDeps {
  service: StorageService;
  logger?: Logger;
}

const OPERATIONS = ['put', 'get', 'list', 'delete', 'bulkPut'] as const;

const baseSchema = z.object({ operation: z.enum(OPERATIONS), namespace: z.string().min(1).max(128) });
const key = z.string().min(1).max(256);
const ifRevision = z.number().int().nonnegative().optional();
const item = {
  key,
  value: z.any(),
  metadata: z.record(z.string(), z.any()).optional(),
  ttlSeconds: z.number().int().positive().optional(),
  ifRevision,
  schemaVersion: z.number().int().positive().optional(),
};
const schemas = {
  put: baseSchema.extend(item),
  get: baseSchema.extend({ key, ifRevision }),
  delete: baseSchema.extend({ key, ifRevision }),
  list: baseSchema.extend({
    limit: z.number().int().min(1).max(100).optional(),
    cursor: z.string().optional(),
    keyPrefix: z.string().max(256).optional(),
    includeValues: z.boolean().optional(),
    includeMetadata: z.boolean().optional(),
  }),
  bulkPut: baseSchema.extend({ items: z.array(z.object(item)).min(1) }),
};

const STATUS: Record<StorageErrorCode, number> = {
  VALIDATION_FAILED: 400,
  LIMIT_EXCEEDED: 400,
  UNAUTHORIZED: 401,
  NAMESPACE_DENIED: 403,
  NOT_FOUND: 404,
  REVISION_MISMATCH: 409,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
};


/** For the HTTP layer: a body that is not JSON (production's route answers 500 there; docs/differences.md#storage-paging). */
export const STORAGE_INVALID_JSON_REPLY: StorageReply = { status: 400, body: { error: 'Invalid JSON body', code: 'VALIDATION_FAILED', details: null } };
const INTERNAL_ERROR_REPLY: StorageReply = { status: 500, body: { error: 'Internal error', code: 'INTERNAL_ERROR' } };

// Production's zod answer is {error, details}; we add the code every other 400 carries
// (docs/differences.md#validation-code).
const zodReply = (e: z.ZodError): StorageReply => ({ status: 400, body: { error: 'Validation error', code: 'VALIDATION_FAILED', details: z.flattenError(e) } });
const serviceReply = (e: StorageServiceError): StorageReply => ({ status: STATUS[e.code], body: { error: e.message, code: e.code, details: e.details ?? null } });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** @example await handleStorageOperation(deps, installId, { operation: 'get', namespace: 'n', key: 'k' }) */
export async function handleStorageOperation(deps: StorageOperationDeps, installId: string, body: unknown, signal?: AbortSignal): Promise<StorageReply> {
  const logger = deps.logger ?? silentLogger;
  const { service } = deps;
  try {
    const base = baseSchema.safeParse(body);
    if (!base.success) return zodReply(base.error);
    const id = String(installId ?? '').trim();
    if (!id) return serviceReply(new StorageServiceError('VALIDATION_FAILED', 'installId is required'));
    if (!isGuid(id)) return serviceReply(new StorageServiceError('NOT_FOUND', 'extension install not found'));

    switch (base.data.operation) {
      case 'put': {
        const p = schemas.put.safeParse(body);
        if (!p.success) return zodReply(p.error);
        const { namespace, operation: _op, schemaVersion: _v, ...rest } = p.data;
        const r = await service.put(id, namespace, rest, signal);
        return { status: 200, body: { namespace: r.namespace, key: r.key, revision: r.revision, ttlExpiresAt: iso(r.ttlExpiresAt), createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) } };
      }
      case 'bulkPut': {
        const p = schemas.bulkPut.safeParse(body);
        if (!p.success) return zodReply(p.error);
        const r = await service.bulkPut(id, p.data.namespace, p.data.items.map(({ schemaVersion: _v, ...rest }) => rest), signal);
        return { status: 200, body: { namespace: r.namespace, items: r.items.map((i) => ({ key: i.key, revision: i.revision, ttlExpiresAt: iso(i.ttlExpiresAt) })) } };
      }
      case 'get': {
        const p = schemas.get.safeParse(body);
        if (!p.success) return zodReply(p.error);
        const r = await service.get(id, p.data.namespace, p.data.key, p.data.ifRevision);
        return {
          status: 200,
          body: { namespace: r.namespace, key: r.key, revision: r.revision, value: r.value, metadata: r.metadata, ttlExpiresAt: iso(r.ttlExpiresAt), createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) },
        };
      }
      case 'delete': {
        const p = schemas.delete.safeParse(body);
        if (!p.success) return zodReply(p.error);
        return { status: 200, body: { success: await service.delete(id, p.data.namespace, p.data.key, p.data.ifRevision, signal) } };
      }
      case 'list': {
        const p = schemas.list.safeParse(body);
        if (!p.success) return zodReply(p.error);
        const r = await service.list(id, p.data);
        const items = r.items.map((i) => ({ ...i, ttlExpiresAt: iso(i.ttlExpiresAt), createdAt: iso(i.createdAt), updatedAt: iso(i.updatedAt) }));
        return { status: 200, body: { items, nextCursor: r.nextCursor } };
      }
    }
  } catch (e) {
    if (e instanceof StorageServiceError) return serviceReply(e);
    if (!(e instanceof TransactionCancelledError)) logger.error('[ext-storage-internal] unexpected error', { installId, error: (e as Error)?.message });
    return INTERNAL_ERROR_REPLY;
  }
}
