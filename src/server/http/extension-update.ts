/**
 * Extension lifecycle routes. `POST /api/v1/extensions/uninstall|enable|disable` {registryId}; and
 * `POST /api/v1/extensions/update` {registryId, version, disableMissingSchedules?} — production's
 * version update (docs/production-contract.md#version-update): 200 `{data: {registryId, version, success, message?}}`, or 409
 * `{success: false, code: "SCHEDULE_REMAP_FAILED", message, missing}`. Production authorizes an API
 * key with `extension:write`; here the admin token (or loopback in development) guards it, and the
 * tenant is `x-alga-tenant`, else the platform's default tenant.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { z } from 'zod';
import { HttpError, sendJson } from '../../shared/http-error.js';
import type { Route } from '../../shared/http-server.js';
import { readBody } from '../../shared/read-body.js';
import { checkAdminAuth } from '../execution/admin-routes.js';
import { requestTenant } from './gateway.js';
import type { JobEngine } from '../scheduler/job-engine.js';
import { updateInstallVersion } from '../registry/version-update.js';
import { setInstallEnabled, uninstallExtension } from '../registry/install-lifecycle.js';

const installSchema = z.object({ registryId: z.string().uuid() });

const bodySchema = z.object({
  registryId: z.string().uuid(),
  version: z.string().min(1),
  disableMissingSchedules: z.boolean().optional(),
});

export interface ExtensionUpdateRouteOptions {
  pool: pg.Pool;
  jobs: JobEngine;
  defaultTenant: string;
  token: string | undefined;
  production?: boolean;
}

/** A JSON body up to 64 KiB, validated: 413 past the cap, 400 for bad JSON or a failed schema. */
async function readJson<T extends z.ZodType>(req: IncomingMessage, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'invalid_json', 'Request body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'validation_failed', 'Validation error', z.flattenError(parsed.error));
  return parsed.data;
}

export function extensionUpdateRoutes(o: ExtensionUpdateRouteOptions): Route[] {
  const tenantOf = (req: IncomingMessage) => requestTenant(req, o.defaultTenant);
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkAdminAuth(req, o);
    const { registryId, version, disableMissingSchedules } = await readJson(req, bodySchema);
    const result = await updateInstallVersion(o.pool, o.jobs, { tenantId: tenantOf(req), registryId, version, disableMissingSchedules });
    if (!result.success && result.code === 'SCHEDULE_REMAP_FAILED') {
      sendJson(res, 409, { success: false, code: result.code, message: result.message, missing: result.missing });
      return;
    }
    // Production answers 200 with success:false for a missing install or version.
    sendJson(res, 200, {
      data: result.success
        ? { registryId, version, success: true, remapped: result.remapped, disabled: result.disabled }
        : { registryId, version, success: false, message: result.message },
    });
  }
  /** enable / disable / uninstall: `{registryId}` → 200 `{data: {registryId, success, message?}}`. */
  function lifecycle(action: 'enable' | 'disable' | 'uninstall') {
    return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      checkAdminAuth(req, o);
      const ref = { tenantId: tenantOf(req), registryId: (await readJson(req, installSchema)).registryId };
      const result =
        action === 'uninstall' ? await uninstallExtension(o.pool, o.jobs, ref) : await setInstallEnabled(o.pool, o.jobs, ref, action === 'enable');
      sendJson(res, 200, { data: { registryId: ref.registryId, ...result } });
    };
  }
  return [
    { method: 'POST', path: '/api/v1/extensions/update', handle },
    { method: 'POST', path: '/api/v1/extensions/enable', handle: lifecycle('enable') },
    { method: 'POST', path: '/api/v1/extensions/disable', handle: lifecycle('disable') },
    { method: 'POST', path: '/api/v1/extensions/uninstall', handle: lifecycle('uninstall') },
  ];
}
