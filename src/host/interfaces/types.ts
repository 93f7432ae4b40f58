import type { Capability } from '../../shared/capabilities.js';
import type { Logger } from '../../shared/logger.js';
import type { ContextData } from '../wit-types/interfaces/alga-extension-types.js';
import type { HostOutcome } from '../sandbox/protocol.js';
import type { SchedulerBackend } from '../ports.js';

/** The `user` of a /v1/execute request, as the runner received it. */
export interface RequestUser {
  tenantId: string;
  userId: string;
  userEmail: string;
  userName: string;
  userType: string;
  clientName: string;
  clientId?: string;
  additionalFields: Record<string, string>;
}

/** What one execution's host functions can see: built once per request, from its grants. */
export interface ExecutionContext {
  context: ContextData;
  granted: ReadonlySet<Capability>;
  user?: RequestUser;
  /** Decrypted secret material, when the request carried an envelope. */
  secrets?: Record<string, string>;
  logger: Logger;
  services: HostServices;
  /** Where guest log lines of this execution are collected (besides the logger); bounded by the logging interface. */
  guestLogs: { level: 'info' | 'warn' | 'error'; message: string }[];
}

/** Platform services the host functions call; absent ones answer production's "unavailable" value. */
export interface HostServices {
  scheduler?: SchedulerBackend;
  /** Hosts allowed for http.fetch (exact or subdomain); empty allows all (EXT_EGRESS_ALLOWLIST). */
  egressAllowlist?: string[];
  /** Base URL of the UI proxy (UI_PROXY_BASE_URL); without it call-route answers route-not-found. */
  uiProxyBaseUrl?: string;
  /** Largest outbound http.fetch response body (default 32 MiB). */
  maxFetchBytes?: number;
}

export type HostFunction = (ctx: ExecutionContext, args: unknown[], signal: AbortSignal) => HostOutcome | Promise<HostOutcome>;

/** One WIT interface: its functions, and what each answers when something unexpected throws. */
export interface HostInterface {
  functions: Record<string, HostFunction>;
  /** Never a trap: the WIT value production gives for an internal failure of `fn`. */
  onInternalError(fn: string, err: unknown): HostOutcome;
}

export const ok = (value: unknown): HostOutcome => ({ ok: value });
export const err = (payload: unknown): HostOutcome => ({ err: payload });
