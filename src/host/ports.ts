/**
 * What the runner needs from the platform. The host never imports `src/server/`: the composition
 * root wires these ports to the server in-process, or to an HTTP client in the split shape.
 */

/** One scheduler host-API call, shaped as the body production's runner posts to
 * `POST /api/internal/ext-scheduler/install/{installId}` (SPEC §4.2). */
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

/** The internal API's answer: HTTP status and parsed JSON body (SPEC §4.3), whether it came over
 * HTTP or from an in-process call. `body` is null for an empty body. */
export interface SchedulerReply {
  status: number;
  body: unknown;
}

export interface SchedulerBackend {
  call(installId: string, request: SchedulerRequest, signal?: AbortSignal): Promise<SchedulerReply>;
}

/** Where component bytes come from, by content hash (production downloads a bundle from its
 * registry; we ask the server's registry, which stores the bytes at install). */
export interface ComponentSource {
  load(ref: { tenantId: string; extensionId: string; contentHash: string }): Promise<Uint8Array | null>;
}
