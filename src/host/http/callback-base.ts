/** Where the runner calls the platform back, from production's variables (docs/production-contract.md#internal-callbacks). */
export function callbackBaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = (env.STORAGE_API_BASE_URL?.trim() || env.REGISTRY_BASE_URL?.trim()) ?? '';
  if (!raw) return undefined;
  return raw.replace(/\/+$/, '').replace(/\/api$/, '');
}
