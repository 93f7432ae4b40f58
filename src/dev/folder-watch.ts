/**
 * Watching an extension folder with node:fs: the folder itself (its top-level files, e.g.
 * manifest.json) and each top-level subfolder that is not ignored, recursively — so a large
 * node_modules or build output is never walked. A subfolder created later is picked up.
 */
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface FolderWatch {
  close(): void;
}

/** `ignored(absPath)`: true for paths whose changes do not matter (checked for every event). */
export function watchFolder(root: string, ignored: (path: string) => boolean, onChange: (path: string) => void): FolderWatch {
  const watchers = new Map<string, FSWatcher>();
  const report = (p: string) => {
    if (!ignored(p)) onChange(p);
  };
  const add = (dir: string, recursive: boolean) => {
    if (watchers.has(dir)) return;
    try {
      const w = watch(dir, { recursive }, (_event, name) => {
        const p = name ? join(dir, name.toString()) : dir;
        if (!recursive && name && p !== root) addSub(p);
        report(p);
      });
      w.on('error', () => {
        w.close();
        watchers.delete(dir);
      });
      watchers.set(dir, w);
    } catch {
      // vanished meanwhile
    }
  };
  const addSub = (p: string) => {
    try {
      if (!ignored(p) && existsSync(p) && statSync(p).isDirectory()) add(p, true);
    } catch {
      // vanished meanwhile
    }
  };
  add(root, false);
  for (const ent of readdirSync(root, { withFileTypes: true })) if (ent.isDirectory()) addSub(join(root, ent.name));
  return {
    close() {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

/** Watching single files (the prebuilt component and the manifest): their folders, filtered. */
export function watchFiles(files: string[], onChange: (path: string) => void): FolderWatch {
  const dirs = new Map<string, Set<string>>();
  for (const f of files) {
    const d = f.slice(0, f.lastIndexOf(sep)) || sep;
    dirs.set(d, (dirs.get(d) ?? new Set()).add(f));
  }
  const ws = [...dirs].flatMap(([d, wanted]) => {
    try {
      return [watch(d, (_e, name) => name && wanted.has(join(d, name.toString())) && onChange(join(d, name.toString())))];
    } catch {
      return [];
    }
  });
  return { close: () => ws.forEach((w) => w.close()) };
}

/** The dev loop's rule: not node_modules, dot-folders, the build's output folder or the component. */
export function buildIgnores(root: string, outDir: string, main: string): (p: string) => boolean {
  return (p) => {
    if (p === root) return false;
    if (p === main) return true;
    if (outDir !== root && (p === outDir || p.startsWith(outDir + sep))) return true;
    return relative(root, p).split(sep).some((seg) => seg === 'node_modules' || (seg.startsWith('.') && seg !== '.' && seg !== '..'));
  };
}
