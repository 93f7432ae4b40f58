/**
 * Production's internal platform APIs for clients, services and invoicing
 * (docs/production-contract.md#clients, #services, #invoicing), shared by the runner (which calls
 * them) and the platform (which serves them): `POST /api/internal/ext-{api}/install/{installId}`.
 */
export const PLATFORM_APIS = ['clients', 'services', 'invoicing'] as const;
export type PlatformApi = (typeof PLATFORM_APIS)[number];

export const platformApiRoutePrefix = (api: PlatformApi) => `/api/internal/ext-${api}/install/`;

/** What a call came back with, as the runner sees it on the wire: an answer (status and raw body
 * text: production's runner reads the text, invoicing quotes it in its error, an empty body is JSON
 * `null`), or no answer at all (no callback configured, or the request failed). */
export type PlatformReply =
  | { kind: 'answer'; status: number; text: string }
  | { kind: 'unreachable'; reason: 'no-base-url' | 'no-token' | 'transport'; message: string };
