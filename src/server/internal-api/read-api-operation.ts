/**
 * Production's internal clients and services routes (docs/production-contract.md#clients, #services)
 * without the `x-runner-auth` check (the HTTP layer's), usable in-process with the same bodies.
 * Order as production: operation → install (active, 404) → capability (403) → user → input → answer.
 * A request with a user passes RBAC: the local platform has no roles (docs/differences.md#local-platform).
 * Never throws; an unexpected failure is production's 500 without details.
 */
import { z } from 'zod';
import type { Capability } from '../../shared/capabilities.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import type { Queryable } from '../db/database.js';
import type { PlatformData } from '../platform-data/platform-data.js';
import { getClient, getService, listClients, listServices } from '../platform-data/read-service.js';
import { findInstallById, type InstallRuntime } from '../registry/registry.js';

export interface InternalReply {
  status: number;
  body: unknown;
}

export interface ReadApiDeps {
  pool: Queryable;
  /** The local platform's clients and services (an empty platform without a file). */
  data: PlatformData;
  logger?: Logger;
}

const operationSchema = z.object({ operation: z.enum(['list', 'get']) });
const userSchema = z.object({ userId: z.string().min(1), userType: z.string().min(1) }).optional();
// Production's zod 3 `.uuid()`: any 8-4-4-4-12 hex.
const uuid = z.guid();
const page = z.number().int().min(1).max(10_000).optional();
const pageSize = z.number().int().min(1).max(100).optional();
const search = z.string().max(200).optional();

const clientsList = z.object({ search, includeInactive: z.boolean().optional(), page, pageSize });
const servicesList = z.object({
  search,
  itemKind: z.enum(['service', 'product']).optional(),
  isActive: z.boolean().optional(),
  billingMethod: z.enum(['fixed', 'hourly', 'usage']).optional(),
  page,
  pageSize,
});

interface ReadApi {
  name: 'clients' | 'services';
  capability: Capability;
  list(data: PlatformData, input: unknown): unknown;
  get(data: PlatformData, input: unknown): unknown;
}

const CLIENTS: ReadApi = {
  name: 'clients',
  capability: 'cap:client.read',
  list: (data, input) => listClients(data, clientsList.parse(input)),
  get: (data, input) => ({ item: getClient(data, z.object({ clientId: uuid }).parse(input).clientId) }),
};

const SERVICES: ReadApi = {
  name: 'services',
  capability: 'cap:service.read',
  list: (data, input) => listServices(data, servicesList.parse(input)),
  get: (data, input) => ({ item: getService(data, z.object({ serviceId: uuid }).parse(input).serviceId) }),
};

const INSTALL_NOT_FOUND: InternalReply = { status: 404, body: { error: 'Install not found', code: 'NOT_FOUND' } };

async function handle(api: ReadApi, deps: ReadApiDeps, installId: string, body: unknown): Promise<InternalReply> {
  const logger = deps.logger ?? silentLogger;
  try {
    const { operation } = operationSchema.parse(body);
    const install: InstallRuntime | null = await findInstallById(deps.pool, String(installId ?? '').trim());
    if (!install || !install.enabled) return INSTALL_NOT_FOUND;
    if (!install.providers.includes(api.capability)) {
      return { status: 403, body: { error: `Permission denied: ${api.capability} not granted`, code: 'NOT_ALLOWED' } };
    }
    const b = body as { user?: unknown; input?: unknown };
    userSchema.parse(b.user); // a well-formed user is allowed: no RBAC locally
    const input = b.input ?? {};
    const answer = operation === 'list' ? api.list(deps.data, input) : api.get(deps.data, input);
    logger.debug(`[ext-${api.name}] ${operation}`, { tenantId: install.tenantId, installId: install.installId, operation });
    return { status: 200, body: answer };
  } catch (e) {
    if (e instanceof z.ZodError) {
      return { status: 400, body: { error: 'Invalid request payload', code: 'INVALID_INPUT', details: z.flattenError(e) } };
    }
    logger.error(`[ext-${api.name}-internal] unexpected error`, { installId, error: (e as Error)?.message });
    return { status: 500, body: { error: 'Internal error', code: 'INTERNAL_ERROR' } };
  }
}

/** `POST /api/internal/ext-clients/install/{installId}` (body already parsed; `undefined` when not JSON). */
export const handleClientsOperation = (deps: ReadApiDeps, installId: string, body: unknown) => handle(CLIENTS, deps, installId, body);
/** `POST /api/internal/ext-services/install/{installId}`. */
export const handleServicesOperation = (deps: ReadApiDeps, installId: string, body: unknown) => handle(SERVICES, deps, installId, body);
