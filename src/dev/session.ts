/**
 * The developer's loop of `alga-runner dev`: build the extension folder (its own build or ours),
 * install it, say how to call it, then watch the folder and swap in each new build.
 *
 * A swap re-registers the component (the newest bundle of a version is the one served) while
 * Postgres, installs, schedules, storage and secrets stay as they are; a request already running
 * resolved its component when it started and finishes on it. A new build is checked before it is
 * registered (jco transpiles it; its imports are in our world), so a bad one never replaces the
 * last good one. A manifest change goes through the version update with schedule remap.
 */
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { buildIgnores, watchFiles, watchFolder, type FolderWatch } from './folder-watch.js';
import { ScheduleRemapRefused, type InstalledExtension, type Platform } from '../platform.js';
import { transpileComponent } from '../host/transpile.js';
import { contentHashOf } from '../shared/content-hash.js';
import type { Manifest } from '../server/registry/manifest.js';
import { otherInstallTenants } from '../server/registry/registry.js';
import { scheduleNames } from '../server/scheduler/schedule-store.js';
import { buildExtensionDir, describeOrigin, ExtensionDirError, type BuildChoice, type LoadedExtension } from './extension-dir.js';
import { worldMismatches } from './world-check.js';

export interface DevSessionOptions {
  dir: string;
  build: BuildChoice;
  disableMissingSchedules?: boolean;
  /** Watch the folder and reload on a change (default true). */
  watch?: boolean;
  /** Quiet period after the last change before rebuilding (ms). */
  debounceMs?: number;
  /** Progress lines (stderr). */
  say: (msg: string) => void;
  /** The startup block and reload lines meant for the user (stdout). */
  print: (text: string) => void;
}

export type ReloadOutcome =
  | { ok: true; changed: boolean; buildMs: number; swapMs: number; installed: InstalledExtension; builtAt: number; steps?: { checkMs: number; installMs: number } }
  | { ok: false; phase: 'manifest' | 'own-build' | 'build' | 'component' | 'transpile' | 'wit' | 'remap'; message: string };

export interface DevSession {
  /** What is being served now (the last good build). */
  readonly installed: InstalledExtension;
  /** Rebuild and swap now (what a change in the folder does after the debounce). */
  reload(reason?: string): Promise<ReloadOutcome>;
  /** Called after every reload, good or bad. */
  onReload(fn: (o: ReloadOutcome) => void): void;
  close(): Promise<void>;
}

const clock = () => new Date().toTimeString().slice(0, 8);

/** The manifest without its version: what a change of must go through the version update. */
function manifestShape(m: Manifest): string {
  const { version: _v, ...rest } = m;
  return JSON.stringify(rest);
}

export async function startDevSession(platform: Platform, o: DevSessionOptions): Promise<DevSession> {
  const buildOpts = {
    build: o.build,
    cacheDir: platform.cacheDir,
    onProgress: o.say,
    onOutput: (line: string) => o.say(`  │ ${line}`),
  };
  const first = await buildExtensionDir(o.dir, buildOpts);
  let installed = await platform.installLoaded(first, { disableMissingSchedules: o.disableMissingSchedules });
  /** The manifest as the user wrote it, version included (a dev version suffix is ours). */
  let lastManifest = first.manifest;
  o.print(startupLines(platform, installed, o));

  const listeners: ((x: ReloadOutcome) => void)[] = [];
  const emit = (x: ReloadOutcome) => {
    for (const l of listeners) l(x);
    return x;
  };

  /** Before anything serves it: jco must read it (the in-process runner also compiles and
   * instantiates it here), and its imports must be in our world. */
  async function check(ext: LoadedExtension): Promise<ReloadOutcome | undefined> {
    let glue: string;
    try {
      const prepared = await platform.prepareComponent(ext.component, ext.manifest.name);
      glue = prepared.glue ?? Buffer.from((await transpileComponent(ext.component)).files['component.js'] ?? new Uint8Array()).toString('utf8');
    } catch (e) {
      return { ok: false, phase: 'transpile', message: `the component does not load (jco transpile, compile): ${(e as Error).message}` };
    }
    const missing = worldMismatches(glue);
    if (missing.length) {
      return {
        ok: false,
        phase: 'wit',
        message: `the component imports what this runner's world (wit/) does not have: ${missing.join(', ')} — it was built against another WIT; rebuild it against this runner's wit/`,
      };
    }
    return undefined;
  }

  async function reloadOnce(reason: string): Promise<ReloadOutcome> {
    o.print(`${clock()} ↻ ${reason}: rebuilding`);
    let ext: LoadedExtension;
    try {
      ext = await buildExtensionDir(o.dir, buildOpts);
    } catch (e) {
      if (e instanceof ExtensionDirError) return { ok: false, phase: e.phase, message: e.message };
      throw e;
    }
    const builtAt = performance.now();
    const sameManifest = JSON.stringify(ext.manifest) === JSON.stringify(lastManifest);
    if (sameManifest && contentHashOf(ext.component) === installed.contentHash) {
      return { ok: true, changed: false, buildMs: ext.buildMs, swapMs: 0, installed, builtAt };
    }
    const bad = await check(ext);
    if (bad) return bad;
    const checkedAt = performance.now();
    // Production's versions are immutable: a manifest edited under the same version becomes a
    // version of its own here, so the update (with schedule remap) runs as it would there.
    const userManifest = ext.manifest;
    if (!sameManifest && userManifest.version === lastManifest.version && manifestShape(userManifest) !== manifestShape(lastManifest)) {
      const suffix = createHash('sha256').update(manifestShape(userManifest)).digest('hex').slice(0, 8);
      ext = { ...ext, manifest: { ...userManifest, version: `${userManifest.version}+dev.${suffix}` } };
    } else if (userManifest.version === lastManifest.version && installed.extension.manifest.version !== userManifest.version) {
      ext = { ...ext, manifest: { ...userManifest, version: installed.extension.manifest.version } }; // keep the dev version
    }
    let next: InstalledExtension | undefined;
    try {
      // Every tenant's install moves along (tenants installed on demand included), the default first.
      const others = await otherInstallTenants(platform.pool, installed.registryId, installed.tenantId);
      for (const tenantId of [installed.tenantId, ...others]) {
        const r = await platform.installLoaded(ext, { tenantId, disableMissingSchedules: o.disableMissingSchedules });
        if (tenantId === installed.tenantId) next = r;
      }
    } catch (e) {
      if (e instanceof ScheduleRemapRefused) return { ok: false, phase: 'remap', message: await remapMessage(platform, e) };
      throw e;
    }
    installed = next ?? installed;
    lastManifest = userManifest;
    const end = performance.now();
    return { ok: true, changed: true, buildMs: ext.buildMs, swapMs: end - builtAt, installed, builtAt, steps: { checkMs: checkedAt - builtAt, installMs: end - checkedAt } };
  }

  // One reload at a time; changes during a reload run one more after it.
  let running: Promise<ReloadOutcome> | undefined;
  let again: string | undefined;
  async function reload(reason = 'reload requested'): Promise<ReloadOutcome> {
    if (running) {
      again = reason;
      return running;
    }
    running = (async () => {
      let outcome: ReloadOutcome;
      for (;;) {
        try {
          outcome = await reloadOnce(reason);
        } catch (e) {
          outcome = { ok: false, phase: 'component', message: (e as Error).message };
        }
        report(outcome);
        emit(outcome);
        if (again === undefined) break;
        reason = again;
        again = undefined;
      }
      return outcome;
    })();
    try {
      return await running;
    } finally {
      running = undefined;
    }
  }

  function report(x: ReloadOutcome) {
    if (!x.ok) {
      const head = x.phase === 'remap' ? 'manifest change refused' : x.phase === 'manifest' ? 'manifest invalid' : 'build failed';
      o.print(`${clock()} ✖ ${head}; still serving the last good component (${installed.contentHash.slice(0, 19)}…)\n${indent(x.message)}`);
    } else if (!x.changed) {
      o.print(`${clock()} = unchanged (${installed.contentHash.slice(0, 19)}…), built in ${ms(x.buildMs)}`);
    } else {
      const v = x.installed.extension.manifest.version;
      o.print(`${clock()} ✔ reloaded ${x.installed.extension.manifest.name}@${v}: component ${x.installed.contentHash.slice(0, 19)}…, built in ${ms(x.buildMs)}, swapped in ${ms(x.swapMs)}`);
    }
  }

  let watcher: FolderWatch | undefined;
  if (o.watch !== false) {
    let timer: NodeJS.Timeout | undefined;
    const pending = new Set<string>();
    watcher = watchExtension(first, o.build, (changed) => {
      clearTimeout(timer);
      pending.add(changed);
      timer = setTimeout(() => {
        const files = [...pending].map((f) => relative(first.dir, f) || f);
        pending.clear();
        void reload(`${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''} changed`);
      }, o.debounceMs ?? 150);
    });
  }

  return {
    get installed() {
      return installed;
    },
    reload,
    onReload: (fn) => listeners.push(fn),
    close: async () => {
      watcher?.close();
      await running?.catch(() => {});
    },
  };
}

/** With a build: the folder but its output folder, node_modules and dot-folders. Without: the
 * prebuilt file and the manifest. */
function watchExtension(ext: LoadedExtension, build: BuildChoice, onChange: (path: string) => void): FolderWatch {
  const main = join(ext.dir, ext.manifest.main);
  if (build.kind === 'none') return watchFiles([main, join(ext.dir, 'manifest.json')], onChange);
  return watchFolder(ext.dir, buildIgnores(ext.dir, dirname(main), main), onChange);
}

async function remapMessage(platform: Platform, e: ScheduleRemapRefused): Promise<string> {
  let names = new Map<string, string>();
  try {
    names = await scheduleNames(platform.pool, e.missing.map((m) => m.scheduleId));
  } catch {
    // names are a nicety
  }
  return [
    `409 ${e.code}: ${e.reason}`,
    ...e.missing.map((m) => `  schedule ${m.scheduleId}${names.get(m.scheduleId) ? ` "${names.get(m.scheduleId)}"` : ''} calls ${m.method} ${m.path}, which the new manifest drops`),
    'Restore those endpoints in manifest.json, or restart dev with --disable-missing-schedules to disable those schedules.',
  ].join('\n');
}

const indent = (s: string) => s.split('\n').map((l) => `    ${l}`).join('\n');
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

function startupLines(platform: Platform, installed: InstalledExtension, o: DevSessionOptions): string {
  const manifest = installed.extension.manifest;
  const base = `${platform.url}/api/ext/${manifest.name}`;
  const watching = o.watch === false ? [] : [`  watching ${installed.extension.dir} (${o.build.kind === 'none' ? 'the prebuilt file and manifest.json' : 'sources and manifest.json'}); an edit rebuilds and swaps the component`];
  return [
    '',
    `✔ ${manifest.name}@${manifest.version} is running for tenant "${installed.tenantId}"`,
    `  ${describeOrigin(installed.extension)}`,
    `  install ${installed.installId}, component ${installed.contentHash.slice(0, 19)}…`,
    ...watching,
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
    `  Dashboard: ${platform.url}/   Metrics: ${platform.url}/metrics   Stop: Ctrl-C`,
    '',
  ].join('\n');
}
