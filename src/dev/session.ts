/**
 * The developer's loop of `alga-runner dev`: build the extension folder (its own build or ours),
 * install it, and say how to call it.
 */
import type { InstalledExtension, Platform } from '../platform.js';
import { buildExtensionDir, describeOrigin, type BuildChoice } from './extension-dir.js';

export interface DevSessionOptions {
  dir: string;
  build: BuildChoice;
  disableMissingSchedules?: boolean;
  /** Progress lines (stderr). */
  say: (msg: string) => void;
  /** The startup block and other lines meant for the user (stdout). */
  print: (text: string) => void;
}

export interface DevSession {
  installed: InstalledExtension;
}

export async function startDevSession(platform: Platform, o: DevSessionOptions): Promise<DevSession> {
  const extension = await buildExtensionDir(o.dir, {
    build: o.build,
    cacheDir: platform.cacheDir,
    onProgress: o.say,
    onOutput: (line) => o.say(`  │ ${line}`),
  });
  const installed = await platform.installLoaded(extension, { disableMissingSchedules: o.disableMissingSchedules });
  o.print(startupLines(platform, installed));
  return { installed };
}

function startupLines(platform: Platform, installed: InstalledExtension): string {
  const manifest = installed.extension.manifest;
  const base = `${platform.url}/api/ext/${manifest.name}`;
  return [
    '',
    `✔ ${manifest.name}@${manifest.version} is running for tenant "${installed.tenantId}"`,
    `  ${describeOrigin(installed.extension)}`,
    `  install ${installed.installId}, component ${installed.contentHash.slice(0, 19)}…`,
    `  ${base}/…  (also under /api/ext/${installed.registryId}/…)`,
    '',
    '  Try:',
    ...manifest.api.endpoints.map((e) => {
      const path = e.path.replace(/:[^/]+|\{[^}]+\}/g, '<id>');
      const data = e.method === 'GET' || e.method === 'DELETE' ? '' : ` -H 'content-type: application/json' -d '{}'`;
      return `    curl -s -X ${e.method} ${base}${path}${data}`;
    }),
    '',
    `  Schedules fire while this runs; their runs: npx alga-runner schedules runs <id> --url ${platform.url}`,
    `  Metrics: ${platform.url}/metrics   Stop: Ctrl-C`,
    '',
  ].join('\n');
}
