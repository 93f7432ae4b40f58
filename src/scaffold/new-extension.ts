/**
 * `alga-runner new <dir>`: a complete extension folder from a template (src/scaffold/templates.ts),
 * depending on this installation of alga-node-runner by `file:` path (so `npm install` works before
 * anything is published) or on a given version.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../dev/extension-dir.js';
import { renderTemplate, TEMPLATES, type TemplateName } from './templates.js';

export class NewExtensionError extends Error {
  override name = 'NewExtensionError';
}

/** Lowercase letters and digits in dot-separated segments (inner `-` allowed), at least two: `com.acme.nightly-sync`. */
const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;
const PUBLISHER = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
const SEMVER_RANGE = /^[~^]?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function validateName(name: string): void {
  if (!NAME.test(name)) {
    throw new NewExtensionError(
      `invalid extension name "${name}": use lowercase letters, digits, "." and "-" in reverse-DNS style, e.g. com.acme.nightly-sync (at least two dot-separated parts, each starting and ending with a letter or digit)`,
    );
  }
}

/** `my_Sync Tool` → `my-sync-tool`; empty when nothing usable is left. */
function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export interface NewExtensionOptions {
  template?: TemplateName;
  /** Manifest name; default `com.example.<folder name>`. */
  name?: string;
  /** Default: the name without its last part. */
  publisher?: string;
  /** Depend on this published version (`1.2.3`, `^1.2.3`) instead of this installation by path. */
  runnerVersion?: string;
  /** Write into a folder that is not empty (the generated files are overwritten). */
  force?: boolean;
}

export interface NewExtensionResult {
  dir: string;
  name: string;
  template: TemplateName;
  files: string[];
  runnerDependency: string;
}

export function newExtension(dir: string, o: NewExtensionOptions = {}): NewExtensionResult {
  const root = resolve(dir);
  const template = o.template ?? 'basic';
  if (!TEMPLATES.includes(template)) throw new NewExtensionError(`unknown template "${template}" (templates: ${TEMPLATES.join(', ')})`);
  const folderSlug = slug(basename(root));
  let name = o.name;
  if (name === undefined) {
    if (!folderSlug) throw new NewExtensionError(`cannot derive an extension name from the folder "${basename(root)}": pass --name, e.g. --name com.acme.nightly-sync`);
    name = `com.example.${folderSlug}`;
  }
  validateName(name);
  const publisher = o.publisher ?? name.slice(0, name.lastIndexOf('.'));
  if (!PUBLISHER.test(publisher)) throw new NewExtensionError(`invalid publisher "${publisher}": lowercase letters, digits, "." and "-", e.g. com.acme`);
  if (o.runnerVersion !== undefined && !SEMVER_RANGE.test(o.runnerVersion)) {
    throw new NewExtensionError(`invalid --runner-version "${o.runnerVersion}": a version such as 0.2.0, ^0.2.0 or ~0.2.0`);
  }
  if (existsSync(root)) {
    const present = readdirSync(root);
    if (present.length > 0 && !o.force) {
      throw new NewExtensionError(`${root} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}): choose a new folder, or pass --force to write into it`);
    }
  }
  const runnerDependency = o.runnerVersion ?? `file:${PROJECT_ROOT}`;
  const own = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { name?: string };
  if (o.runnerVersion === undefined && own.name !== 'alga-node-runner') throw new NewExtensionError(`cannot find this alga-node-runner installation at ${PROJECT_ROOT}`);
  const files = renderTemplate(template, { name, publisher, packageName: folderSlug || slug(name), runnerDependency });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return { dir: root, name, template, files: Object.keys(files), runnerDependency };
}
