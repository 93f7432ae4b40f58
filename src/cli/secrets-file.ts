/**
 * Secrets given as a file, `{"KEY": "value", …}` (`exec --secrets-file`, `dev --secrets-file`), and
 * `KEY=VALUE` arguments. Errors name the file, the argument's position or the key, never a value.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import type pg from 'pg';
import { writeInstallSecrets } from '../server/secrets/install-secrets.js';
import { UsageError } from './main.js';

export function readSecretsFile(file: string): Record<string, string> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the secrets file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`the secrets file ${path} is not JSON (expected {"KEY": "value", …})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`the secrets file ${path} must hold one JSON object {"KEY": "value", …}`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!key.trim()) throw new UsageError(`the secrets file ${path} has an empty key`);
    if (typeof value !== 'string') throw new UsageError(`the secrets file ${path}: the value of "${key}" must be a string`);
    out[key] = value;
  }
  return out;
}

/** `KEY=VALUE` arguments (the value may hold `=`), in order; a later key wins. */
export function parseSecretArgs(args: string[], what = 'a secret'): Record<string, string> {
  const out: Record<string, string> = {};
  args.forEach((arg, i) => {
    const eq = arg.indexOf('=');
    if (eq <= 0 || !arg.slice(0, eq).trim()) throw new UsageError(`${what} must be KEY=VALUE (argument ${i + 1} is not)`);
    out[arg.slice(0, eq)] = arg.slice(eq + 1);
  });
  return out;
}

/**
 * `dev --secrets-file`: writes the file's secrets to the install now and whenever the file changes
 * (polled, so an editor's save-by-rename is seen). A key removed from the file is removed from the
 * install; keys set by other means are left alone. A bad file is reported and the last good one kept.
 */
export async function syncSecretsFile(
  pool: pg.Pool,
  install: { installId: string; tenantId: string },
  file: string,
  say: (msg: string) => void,
): Promise<{ stop(): void }> {
  const path = resolve(file);
  let previous = readSecretsFile(path);
  await writeInstallSecrets(pool, install, previous);
  say(`secrets from ${path}: ${Object.keys(previous).sort().join(', ') || '(none)'}`);
  let writing = Promise.resolve();
  const onChange = () => {
    writing = writing.then(async () => {
      let next: Record<string, string>;
      try {
        next = readSecretsFile(path);
      } catch (e) {
        say(`${(e as Error).message}; keeping the secrets written before`);
        return;
      }
      const removed = Object.fromEntries(Object.keys(previous).filter((k) => !(k in next)).map((k) => [k, null]));
      try {
        await writeInstallSecrets(pool, install, { ...removed, ...next });
        previous = next;
        say(`secrets updated from ${path}: ${Object.keys(next).sort().join(', ') || '(none)'}`);
      } catch (e) {
        say(`could not write the secrets from ${path}: ${(e as Error).message}`);
      }
    });
  };
  watchFile(path, { interval: 300 }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) onChange();
  });
  return { stop: () => unwatchFile(path) };
}
