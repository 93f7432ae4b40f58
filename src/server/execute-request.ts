/** Builds production's /v1/execute request for an install (the platform side of docs/production-contract.md#execute). */
import { randomUUID } from 'node:crypto';
import type { ExecuteHeaders, ExecuteRequestBody } from '../shared/execute-envelope.js';
import type { InstallRuntime } from './registry/registry.js';

export interface ExtensionCall {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  requestId?: string;
  idempotencyKey?: string;
  timeoutMs?: number;
  user?: ExecuteRequestBody['user'];
  /** Extra context keys (production's scheduled calls add `trigger`, `schedule_id`). */
  context?: Record<string, string>;
}

export function buildExecuteCall(install: InstallRuntime, call: ExtensionCall): { headers: ExecuteHeaders; body: ExecuteRequestBody } {
  const requestId = call.requestId ?? randomUUID();
  const method = call.method.toUpperCase();
  const headers: ExecuteHeaders = {
    'x-alga-tenant': install.tenantId,
    'x-alga-extension': install.registryId,
    'x-request-id': requestId,
  };
  if (call.idempotencyKey) headers['x-idempotency-key'] = call.idempotencyKey;
  const body: ExecuteRequestBody = {
    context: {
      ...call.context,
      request_id: requestId,
      tenant_id: install.tenantId,
      extension_id: install.registryId,
      install_id: install.installId,
      version_id: install.versionId,
      content_hash: install.contentHash,
      config: install.config,
    },
    http: {
      method,
      path: call.path,
      query: call.query ?? {},
      headers: { ...call.headers, 'x-alga-tenant': install.tenantId, 'x-alga-extension': install.registryId },
      body_b64: call.body ? Buffer.from(call.body).toString('base64') : undefined,
    },
    limits: { timeout_ms: call.timeoutMs ?? 30_000 },
    providers: install.providers,
  };
  if (call.user) body.user = call.user;
  if (install.secretEnvelope) body.secret_envelope = install.secretEnvelope;
  return { headers, body };
}
