import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison; a length mismatch fails without revealing where. */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length) {
    timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Tokens production refuses in NODE_ENV=production (docs/production-contract.md#runner-auth). */
export const WEAK_TOKENS = ['local-runner-key', 'changeme', 'change-me', 'secret'];

/** Why a server token cannot be used, or undefined when it can. */
export function runnerTokenProblem(token: string | undefined, production: boolean): string | undefined {
  if (!token) return 'no runner token configured (set RUNNER_STORAGE_API_TOKEN or RUNNER_SERVICE_TOKEN)';
  if (production && WEAK_TOKENS.includes(token)) return `the runner token "${token}" is a well-known default and is refused in production`;
  return undefined;
}
