/**
 * Disabling, enabling and uninstalling an install (docs/production-contract.md#lifecycle), each in one transaction with the job
 * engine (production logs and carries on when a cancel fails; here a failure changes nothing).
 *   disable:   cancel the durable schedule of every schedule that has one, clear all handles; keep
 *              each schedule's `enabled`, so its configuration survives;
 *   enable:    give every enabled schedule without a handle its durable schedule again;
 *   uninstall: cancel, delete the schedules, then the install (config and secrets cascade);
 *              registry and version rows stay.
 */
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import { recurringJobFor, type JobEngine } from '../scheduler/job-engine.js';

export type LifecycleResult = { success: true; schedules: number } | { success: false; message: 'Install not found' };

interface InstallRef {
  tenantId: string;
  registryId: string;
}

async function lockInstall(tx: pg.PoolClient, ref: InstallRef): Promise<string | undefined> {
  const r = await tx.query<{ id: string }>(`SELECT id FROM tenant_extension_install WHERE tenant_id = $1 AND registry_id = $2 FOR UPDATE`, [
    ref.tenantId,
    ref.registryId,
  ]);
  return r.rows[0]?.id;
}

interface ScheduleHandles {
  id: string;
  enabled: boolean;
  job_id: string | null;
  cron: string;
  timezone: string;
}

async function schedulesOf(tx: pg.PoolClient, installId: string, tenantId: string): Promise<ScheduleHandles[]> {
  return (
    await tx.query<ScheduleHandles>(
      `SELECT id, enabled, job_id, cron, timezone FROM tenant_extension_schedule WHERE install_id = $1 AND tenant_id = $2 FOR UPDATE`,
      [installId, tenantId],
    )
  ).rows;
}

async function cancelAll(tx: pg.PoolClient, jobs: JobEngine, schedules: ScheduleHandles[], tenantId: string): Promise<void> {
  for (const s of schedules) if (s.job_id) await jobs.cancel(tx, s.job_id, tenantId);
}

export function setInstallEnabled(pool: pg.Pool, jobs: JobEngine, ref: InstallRef, enabled: boolean): Promise<LifecycleResult> {
  return withTransaction(pool, async (tx) => {
    const installId = await lockInstall(tx, ref);
    if (!installId) return { success: false, message: 'Install not found' } as const;
    const schedules = await schedulesOf(tx, installId, ref.tenantId);
    if (!enabled) {
      await cancelAll(tx, jobs, schedules, ref.tenantId);
      await tx.query(`UPDATE tenant_extension_schedule SET job_id = NULL, runner_schedule_id = NULL, updated_at = now() WHERE install_id = $1 AND tenant_id = $2`, [
        installId,
        ref.tenantId,
      ]);
    } else {
      for (const s of schedules) {
        if (!s.enabled || s.job_id) continue;
        const handles = await jobs.scheduleRecurring(
          tx,
          recurringJobFor({ tenantId: ref.tenantId, installId, scheduleId: s.id, cron: s.cron, timezone: s.timezone || 'UTC' }),
        );
        await tx.query(`UPDATE tenant_extension_schedule SET job_id = $2, runner_schedule_id = $3, updated_at = now() WHERE id = $1`, [
          s.id,
          handles.jobId,
          handles.externalId,
        ]);
      }
    }
    // `status` is not touched by the toggle (production).
    await tx.query(`UPDATE tenant_extension_install SET is_enabled = $2, updated_at = now() WHERE id = $1`, [installId, enabled]);
    return { success: true, schedules: schedules.length } as const;
  });
}

export function uninstallExtension(pool: pg.Pool, jobs: JobEngine, ref: InstallRef): Promise<LifecycleResult> {
  return withTransaction(pool, async (tx) => {
    const installId = await lockInstall(tx, ref);
    if (!installId) return { success: false, message: 'Install not found' } as const;
    const schedules = await schedulesOf(tx, installId, ref.tenantId);
    await cancelAll(tx, jobs, schedules, ref.tenantId);
    await tx.query(`DELETE FROM tenant_extension_schedule WHERE install_id = $1 AND tenant_id = $2`, [installId, ref.tenantId]);
    await tx.query(`DELETE FROM tenant_extension_install WHERE id = $1`, [installId]);
    return { success: true, schedules: schedules.length } as const;
  });
}
