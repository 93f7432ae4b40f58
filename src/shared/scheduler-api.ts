/**
 * Production's internal scheduler API (docs/production-contract.md#scheduler-callback,
 * #scheduler-route), shared by the runner (which calls it) and the platform (which serves it): the body posted to
 * `POST /api/internal/ext-scheduler/install/{installId}`, and the answer.
 */
export type SchedulerRequest =
  | { operation: 'list' }
  | { operation: 'get'; scheduleId: string }
  | {
      operation: 'create';
      endpoint: string;
      cron: string;
      timezone?: string;
      enabled?: boolean;
      name?: string;
      payload?: unknown;
    }
  | {
      operation: 'update';
      scheduleId: string;
      endpoint?: string;
      cron?: string;
      timezone?: string;
      enabled?: boolean;
      name?: string | null;
      payload?: unknown;
    }
  | { operation: 'delete'; scheduleId: string }
  | { operation: 'getEndpoints' };

export type SchedulerOperation = SchedulerRequest['operation'];

/** HTTP status and parsed JSON body (null for an empty body), whether over HTTP or in-process. */
export interface SchedulerReply {
  status: number;
  body: unknown;
}
