import type { JobEngine } from '../../src/server/scheduler/job-engine.js';

export interface FailureInjection {
  failOn: 'schedule' | 'cancel';
  /** 'throw' (default) raises; 'refuse' makes cancel answer false (schedule always throws). */
  mode?: 'throw' | 'refuse';
  /** Let this many matching calls through before failing (default 0). */
  after?: number;
}

/**
 * Wraps an engine so the chosen step fails, after doing nothing (no partial write). A create makes
 * its job inside its one SQL statement, so its job-engine failures are injected in the database
 * (a trigger on `jobs`); this fails the steps update, delete and the install lifecycle call.
 */
export function failingJobEngine(inner: JobEngine, injection: FailureInjection): JobEngine {
  let seen = 0;
  const shouldFail = (step: FailureInjection['failOn']) => step === injection.failOn && seen++ >= (injection.after ?? 0);
  return {
    recurringJobArgument: (job) => inner.recurringJobArgument(job),
    async scheduleRecurring(q, job) {
      if (shouldFail('schedule')) throw new Error('injected failure: scheduleRecurring');
      return inner.scheduleRecurring(q, job);
    },
    async cancel(q, jobId, tenantId) {
      if (shouldFail('cancel')) {
        if (injection.mode === 'refuse') return false;
        throw new Error('injected failure: cancel');
      }
      return inner.cancel(q, jobId, tenantId);
    },
  };
}
