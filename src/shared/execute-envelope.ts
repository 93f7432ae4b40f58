/**
 * Production's `POST /v1/execute` contract (docs/production-contract.md#execute), shared by the runner (which serves it) and
 * the platform (which calls it). Unknown fields are ignored, as production's serde does.
 */
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());
const optString = z.string().nullish();

export const executeRequestSchema = z.object({
  context: z.object({
    request_id: optString,
    tenant_id: z.string(),
    extension_id: z.string(),
    install_id: optString,
    version_id: optString,
    content_hash: z.string(),
    config: stringMap.default({}),
  }),
  http: z.object({
    method: z.string(),
    path: z.string(),
    query: stringMap.default({}),
    headers: stringMap.default({}),
    body_b64: z.string().nullish(),
  }),
  limits: z
    .object({
      timeout_ms: z.number().int().nonnegative().nullish(),
      memory_mb: z.number().int().nonnegative().nullish(),
      fuel: z.number().int().nonnegative().nullish(),
    })
    .nullish(),
  providers: z.array(z.string()).default([]),
  secret_envelope: z
    .object({
      ciphertext_b64: z.string(),
      version: optString,
      algorithm: optString,
      expires_at: optString,
      key_path: optString,
      mount: optString,
    })
    .nullish(),
  user: z
    .object({
      user_id: z.string(),
      user_email: z.string(),
      user_name: z.string(),
      user_type: z.string(),
      client_name: z.string().optional(),
      company_name: z.string().optional(),
      client_id: optString,
      additional_fields: stringMap.default({}),
    })
    .nullish(),
});

/** A parsed request body; callers may build it directly (defaults are applied by parsing). */
export type ExecuteRequestBody = z.input<typeof executeRequestSchema>;
export type ParsedExecuteRequest = z.output<typeof executeRequestSchema>;

/** Production's response body: always all four keys; HTTP status 200 for every outcome. */
export interface ExecuteResponseBody {
  status: number;
  headers: Record<string, string>;
  body_b64: string | null;
  error: string | null;
}

/** Request headers the runner reads (lowercase names). */
export interface ExecuteHeaders {
  'x-alga-tenant'?: string;
  'x-alga-extension'?: string;
  'x-idempotency-key'?: string;
  'x-request-id'?: string;
}

/** The runner, as the platform sees it: in-process, or over HTTP in the split shape. */
export interface ExecuteClient {
  execute(headers: ExecuteHeaders, body: ExecuteRequestBody, signal?: AbortSignal): Promise<ExecuteResponseBody>;
}

export function envelopeError(status: number, error: string): ExecuteResponseBody {
  return { status, headers: {}, body_b64: null, error };
}
