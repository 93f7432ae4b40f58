import { resolve } from 'node:path';
import { loadPlatformData, type PlatformData } from '../server/platform-data/platform-data.js';

/** `--platform-data F.json`, read and validated before anything starts (a bad file stops the command). */
export function platformDataOption(path: string | undefined): PlatformData | undefined {
  return path === undefined ? undefined : loadPlatformData(resolve(path));
}
