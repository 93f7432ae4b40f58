/**
 * Moving an install to another version of its extension, with production's schedule remap
 * (docs/production-contract.md#version-update, `POST /api/v1/extensions/update`): schedules follow their endpoint by (METHOD, path);
 * any that cannot block the update with `SCHEDULE_REMAP_FAILED`, unless the caller asks to disable
 * them. One transaction for the rows and the job engine (production's runner-side cancels and
 * creates were not rolled back when the transaction failed).
 */
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import { recurringJobFor, type JobEngine } from '../scheduler/job-engine.js';
import { materializeEndpoints, normalizeEndpointPath } from './endpoints.js';

export const REMAP_BLOCKED_MESSAGE = 'Extension update blocked: one or more schedules reference endpoints missing in target version';
export const DISABLED_MISSING_ENDPOINT = 'Disabled due to missing endpoint on extension update';

export interface MissingEndpoint {
  scheduleId: string;
  method: string;
  path: string;
}

export type VersionUpdateResult =
  | { success: true; remapped: number; disabled: MissingEndpoint[] }
  | { success: false; code: 'NOT_FOUND'; message: 'Install not found' | 'Target version not found' }
  | { success: false; code: 'SCHEDULE_REMAP_FAILED'; message: string; missing: MissingEndpoint[] };

class RemapBlocked extends Error {
  constructor(readonly missing: MissingEndpoint[]) {
    super(REMAP_BLOCKED_MESSAGE);
  }
}

export interface VersionUpdate {
  tenantId: string;
  registryId: string;
  /** The target version string (production's body) or its id. */
  version: string;
  disableMissingSchedules?: boolean;
}

export async function updateInstallVersion(pool: pg.Pool, jobs: JobEngine, u: VersionUpdate): Promise<VersionUpdateResult> {
  try {
    return await withTransaction(pool, async (tx) => {
      const install = (
        await tx.query<{ id: string; version_id: string }>(
          `SELECT id, version_id FROM tenant_extension_install WHERE tenant_id = $1 AND registry_id = $2 FOR UPDATE`,
          [u.tenantId, u.registryId],
        )
      ).rows[0];
      if (!install) return { success: false, code: 'NOT_FOUND', message: 'Install not found' } as const;
      const target = (
        await tx.query<{ id: string }>(
          `SELECT id FROM extension_version WHERE registry_id = $1 AND (version = $2 OR id::text = $2)`,
          [u.registryId, u.version],
        )
      ).rows[0];
      if (!target) return { success: false, code: 'NOT_FOUND', message: 'Target version not found' } as const;

      await materializeEndpoints(tx, target.id);
      const targetEndpoints = new Map(
        (await tx.query<{ id: string; method: string; path: string }>(`SELECT id, method, path FROM extension_api_endpoint WHERE version_id = $1`, [target.id])).rows.map(
          (e) => [`${e.method.toUpperCase()} ${normalizeEndpointPath(e.path)}`, e.id],
        ),
      );
      // Enabled and disabled alike; a schedule whose endpoint row is gone is left out (production).
      const schedules = (
        await tx.query<{ id: string; method: string; path: string; enabled: boolean; job_id: string | null; runner_schedule_id: string | null; cron: string; timezone: string }>(
          `SELECT s.id, e.method, e.path, s.enabled, s.job_id, s.runner_schedule_id, s.cron, s.timezone
             FROM tenant_extension_schedule s JOIN extension_api_endpoint e ON e.id = s.endpoint_id
            WHERE s.install_id = $1 AND s.tenant_id = $2 FOR UPDATE OF s`,
          [install.id, u.tenantId],
        )
      ).rows;
      const missing: MissingEndpoint[] = [];
      let remapped = 0;
      for (const s of schedules) {
        const endpointId = targetEndpoints.get(`${s.method.toUpperCase()} ${normalizeEndpointPath(s.path)}`);
        if (!endpointId) {
          missing.push({ scheduleId: s.id, method: s.method.toUpperCase(), path: s.path });
          continue;
        }
        await tx.query(`UPDATE tenant_extension_schedule SET endpoint_id = $2, updated_at = now() WHERE id = $1`, [s.id, endpointId]);
        remapped++;
      }
      if (missing.length && !u.disableMissingSchedules) throw new RemapBlocked(missing);

      const missingIds = new Set(missing.map((m) => m.scheduleId));
      for (const s of schedules) {
        if (missingIds.has(s.id)) {
          if (s.job_id) await jobs.cancel(tx, s.job_id, u.tenantId);
          await tx.query(
            `UPDATE tenant_extension_schedule SET enabled = false, job_id = NULL, runner_schedule_id = NULL, last_error = $2, updated_at = now() WHERE id = $1`,
            [s.id, DISABLED_MISSING_ENDPOINT],
          );
        } else if (s.enabled && (!s.job_id || !s.runner_schedule_id)) {
          // Repair: an enabled schedule without its durable handle gets one again.
          const handles = await jobs.scheduleRecurring(
            tx,
            recurringJobFor({ tenantId: u.tenantId, installId: install.id, scheduleId: s.id, cron: s.cron, timezone: s.timezone }),
          );
          await tx.query(`UPDATE tenant_extension_schedule SET job_id = $2, runner_schedule_id = $3 WHERE id = $1`, [s.id, handles.jobId, handles.externalId]);
        }
      }
      await tx.query(`UPDATE tenant_extension_install SET version_id = $2, updated_at = now() WHERE id = $1`, [install.id, target.id]);
      return { success: true, remapped, disabled: missing } as const;
    });
  } catch (err) {
    if (err instanceof RemapBlocked) return { success: false, code: 'SCHEDULE_REMAP_FAILED', message: err.message, missing: err.missing };
    throw err;
  }
}
