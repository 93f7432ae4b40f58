import type { Capability } from '../../shared/capabilities.js';
import type { Logger } from '../../shared/logger.js';
import type { ContextData } from '../wit-types/interfaces/alga-extension-types.js';
import type { PlatformApiBackend, SchedulerBackend, StorageBackend } from '../ports.js';
import type { FunctionName, InterfaceName, WorldImportErrors, WorldInterfaces } from '../world.js';

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

/** An execution's own data, built once per request from its grants: structured-cloneable, so it
 * travels with the task into the sandbox worker, where the data-only imports answer from it. */
export interface ExecutionData {
  context: ContextData;
  granted: ReadonlySet<Capability>;
  user?: RequestUser;
  /** Decrypted secret material, when the request carried an envelope. */
  secrets?: Record<string, string>;
}

/** What the data-only interfaces see (in the sandbox worker, see in-guest.ts): the execution's data,
 * a logger for its lines, and the lines kept. */
export interface InGuestContext extends ExecutionData {
  logger: Logger;
  /** Where guest log lines of this execution are collected (besides the logger); bounded by the logging interface. */
  guestLogs: { level: 'info' | 'warn' | 'error'; message: string }[];
}

/** What one execution's host functions can see: its data, plus the platform's services (main thread). */
export interface ExecutionContext extends InGuestContext {
  services: HostServices;
}

/** Platform services the host functions call; absent ones answer production's "unavailable" value. */
export interface HostServices {
  scheduler?: SchedulerBackend;
  /** clients, services, invoicing; without it their calls answer production's unconfigured value. */
  platformApi?: PlatformApiBackend;
  /** The key-value store of cap:storage.kv; without it a granted call answers `internal`. */
  storage?: StorageBackend;
  /** Hosts allowed for http.fetch (exact or subdomain); empty allows all (EXT_EGRESS_ALLOWLIST). */
  egressAllowlist?: string[];
  /** The UI proxy (UI_PROXY_BASE_URL, UI_PROXY_TIMEOUT_MS); without a base URL call-route answers route-not-found. */
  uiProxy?: { baseUrl?: string; timeoutMs?: number };
  /** Largest outbound http.fetch / ui-proxy / wasi:http response body, and wasi:http request body (ALGA_FETCH_MAX_BYTES, default 32 MiB). */
  maxFetchBytes?: number;
  /** NODE_ENV=production: http.fetch also refuses loopback and private addresses not allowlisted. */
  refuseInternalAddresses?: boolean;
  /** How http.fetch resolves a host (default the system resolver); tests give their own. */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

/** The plain-data part of HostServices (structured-cloneable): what a sandbox worker's own services
 * are given as they are (see ports.ts, WorkerIoSpec). */
export type HostSettings = Pick<HostServices, 'egressAllowlist' | 'uiProxy' | 'maxFetchBytes' | 'refuseInternalAddresses'>;

/** How a host function ends, as the guest must see it: its WIT success value, the error case of its
 * `result`, or a deliberate trap (production panics, e.g. context without its capability). */
export type Outcome<T, E> = { ok: T } | { err: E } | { trap: string };

type Fn<I extends InterfaceName, F extends FunctionName<I>> = WorldInterfaces[I][F] extends (...args: infer A) => infer R
  ? { args: A; value: R; error: F extends keyof WorldImportErrors[I] ? WorldImportErrors[I][F] : never }
  : never;

/** What function `F` of interface `I` may answer: typed by the WIT (success from jco's declaration,
 * error from the generated error table). */
export type OutcomeOf<I extends InterfaceName, F extends FunctionName<I>> = Outcome<Fn<I, F>['value'], Fn<I, F>['error']>;

/**
 * The host side of WIT interface `I`: one function for each function jco declares, with its
 * parameters as a tuple, so a function renamed, added or retyped in wit/ breaks `tsc`.
 * `Ctx` is what the implementation reads of the execution.
 */
export type HostFunctions<I extends InterfaceName, Ctx = ExecutionContext> = {
  [F in FunctionName<I>]: (ctx: Ctx, args: Fn<I, F>['args'], signal: AbortSignal) => OutcomeOf<I, F> | Promise<OutcomeOf<I, F>>;
};

/** One WIT interface: its functions, and what each answers when something unexpected throws. */
export interface HostInterface<I extends InterfaceName, Ctx = ExecutionContext> {
  functions: HostFunctions<I, Ctx>;
  /** Never a trap unless production traps: the WIT value production gives for an internal failure of `fn`. */
  onInternalError(fn: FunctionName<I>, err: unknown): OutcomeOf<I, FunctionName<I>>;
}

export const ok = <T>(value: T) => ({ ok: value });
export const err = <const E>(payload: E) => ({ err: payload });

/** A data-only interface: answered synchronously from the execution's data, in the sandbox worker
 * (no thread hop; see in-guest.ts). It is a HostInterface too, so the main thread can run it alike. */
export interface InGuestInterface<I extends InterfaceName> {
  functions: { [F in FunctionName<I>]: (ctx: InGuestContext, args: Fn<I, F>['args']) => OutcomeOf<I, F> };
  onInternalError(fn: FunctionName<I>, err: unknown): OutcomeOf<I, FunctionName<I>>;
}
