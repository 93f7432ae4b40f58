import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { createLogger } from '../shared/logger.js';
import { startPlatform } from '../platform.js';
import { readManifest } from '../dev/extension-dir.js';
import { findInstall, installExtension, registerExtension } from '../server/registry/registry.js';
import { buildExecuteCall } from '../server/execute-request.js';
import { Deadline } from '../shared/deadline.js';
import { executionEnvelope } from '../server/secrets/install-secrets.js';
import { parseSecretArgs, readSecretsFile } from './secrets-file.js';
import { UsageError } from './main.js';
import { platformDataOption } from './platform-data-option.js';

function readBodyArg(arg: string | undefined): Uint8Array | undefined {
  if (arg === undefined) return undefined;
  const text = arg.startsWith('@') ? readFileSync(resolve(arg.slice(1)), 'utf8') : arg;
  try {
    JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--body is not valid JSON: ${(e as Error).message}`);
  }
  return new TextEncoder().encode(text);
}

/** `alga-runner exec`: one request, production's response envelope on stdout. */
export async function runExec(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      component: { type: 'string' },
      manifest: { type: 'string' },
      grant: { type: 'string' },
      tenant: { type: 'string', default: 'local' },
      body: { type: 'string' },
      'data-dir': { type: 'string' },
      'platform-data': { type: 'string' },
      secret: { type: 'string', multiple: true },
      'secrets-file': { type: 'string' },
    },
  });
  if (!values.component) throw new UsageError('exec needs --component <file.wasm>');
  if (!values.manifest) throw new UsageError('exec needs --manifest <manifest.json>');
  const [method, path] = positionals;
  if (!method || !path) throw new UsageError('exec needs <METHOD> <PATH>');
  if (!path.startsWith('/')) throw new UsageError(`PATH must start with "/" (got "${path}")`);
  const body = readBodyArg(values.body);
  const platformData = platformDataOption(values['platform-data']);
  const manifest = readManifest(resolve(values.manifest));
  const component = new Uint8Array(readFileSync(resolve(values.component)));
  const grant = values.grant?.split(',').map((s) => s.trim()).filter(Boolean);
  // For this execution only: the file, then --secret (a later key wins), over the stored secrets.
  const secretOverrides = { ...(values['secrets-file'] ? readSecretsFile(values['secrets-file']) : {}), ...parseSecretArgs(values.secret ?? [], '--secret') };

  const platform = await startPlatform({
    config,
    dataDir: values['data-dir'],
    tenantId: values.tenant,
    logger: createLogger({ level: 'warn', format: 'pretty' }),
    platformData,
  });
  try {
    const reg = await registerExtension(platform.pool, manifest, component);
    await installExtension(platform.pool, {
      tenantId: values.tenant!,
      registryId: reg.registryId,
      versionId: reg.versionId,
      grantedCaps: manifest.capabilities,
      capabilitiesOverride: grant ?? null,
    });
    const stored = await findInstall(platform.pool, values.tenant!, reg.registryId);
    if (!stored) throw new Error('install vanished');
    const install = { ...stored, secretEnvelope: executionEnvelope(stored.secretEnvelope, secretOverrides) };
    const url = new URL(`http://x${path}`); // not new URL(path, base): `//a/b` would read `a` as a host
    // The execution's one deadline, from here (EXT_GATEWAY_TIMEOUT_MS, as the gateway's).
    const deadline = new Deadline(config.execution.timeoutMs);
    const call = buildExecuteCall(install, {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: body ? { 'content-type': 'application/json' } : {},
      body,
      timeoutMs: config.execution.timeoutMs,
    });
    const out = await platform.runner.execute(call.headers, call.body, deadline.signal).finally(() => deadline.dispose());
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return out.error ? 1 : 0;
  } finally {
    await platform.stop();
  }
}
