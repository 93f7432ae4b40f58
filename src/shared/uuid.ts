/**
 * The two UUID checks the contract uses, defined once. `isGuid`: any 8-4-4-4-12 hex string, what
 * Postgres can cast to uuid and as loose as production's route checks (zod's `z.guid()`).
 * `isRfc4122Uuid`: versions 1–5 with variant [89ab], production's stricter check for a schedule id
 * (docs/production-contract.md#scheduler-validation) and an invoice's references.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC4122_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export const isGuid = (s: string): boolean => GUID.test(s);
export const isRfc4122Uuid = (s: string): boolean => RFC4122_UUID.test(s);
