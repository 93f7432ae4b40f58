/**
 * The repository is self-contained: nothing cites the product notes kept outside it (their section
 * numbers, decision numbers, file names), and every pointer into `docs/…md#anchor` names a section
 * that exists, so a renamed heading breaks this test rather than a reader's link.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../support/components.js';

const root = projectRoot();
const SKIP_DIRS = new Set(['node_modules', 'dist', '.alga', '.git']);
const TEXT = /\.(ts|js|mjs|cjs|md|wit|json)$/;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (TEXT.test(name) && name !== 'package-lock.json') out.push(p);
  }
  return out;
}

// What citing the outside notes looks like. This file names the patterns, so it is exempt.
const SELF = join('test', 'docs', 'citations.test.ts');
const OUTSIDE = [
  /SPEC(-DECISIONS|-INTERFACES)?\s*§/,
  /SPEC-DECISIONS/,
  /SPEC-INTERFACES/,
  /§\s*\d/,
  /\b[Dd]ecisions? \d/,
  /\bdefects? \d/,
  /\.\.\/shared\/[A-Z]/,
  /\b(WIT|NOTES|STYLE)\.md\b/,
];

test('no file cites notes kept outside the repository', () => {
  const hits: string[] = [];
  for (const f of files(root)) {
    const rel = relative(root, f);
    if (rel === SELF) continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (OUTSIDE.some((re) => re.test(line))) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(hits, []);
});

/** GitHub's heading anchor: lowercase, punctuation other than `-` and `_` dropped, spaces → `-`. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) out.add(slug(m[1]!));
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1]!);
  return out;
}

test('every pointer into docs/<file>.md#<anchor> names a section that exists', () => {
  const docs = join(root, 'docs');
  const anchors = new Map(readdirSync(docs).filter((n) => n.endsWith('.md')).map((n) => [n, anchorsOf(readFileSync(join(docs, n), 'utf8'))]));
  const broken: string[] = [];
  let checked = 0;
  for (const f of files(root)) {
    const rel = relative(root, f);
    if (rel === SELF) continue;
    const text = readFileSync(f, 'utf8');
    const inDocs = rel.startsWith('docs/');
    // `docs/x.md#a` anywhere; inside docs/ also the relative `x.md#a` and `(#a)` of the same file.
    const refs = [...text.matchAll(/(?:docs\/)?([a-z][a-z0-9-]*\.md)#([a-z0-9_-]+)/g)]
      .filter((m) => inDocs || m[0].startsWith('docs/'))
      .map((m) => [m[1]!, m[2]!] as const);
    if (inDocs) for (const m of text.matchAll(/\]\(#([a-z0-9_-]+)\)/g)) refs.push([rel.slice('docs/'.length), m[1]!]);
    // A comment continues a pointer with `#other` of the same file: `docs/x.md#a, #b`.
    for (const m of text.matchAll(/docs\/([a-z][a-z0-9-]*\.md)#[a-z0-9_-]+((?:,\s*(?:\n\s*\*\s*)?#[a-z0-9_-]+)+)/g)) {
      for (const extra of m[2]!.matchAll(/#([a-z0-9_-]+)/g)) refs.push([m[1]!, extra[1]!]);
    }
    for (const [file, anchor] of refs) {
      checked++;
      const known = anchors.get(file);
      if (!known) broken.push(`${rel}: ${file} is not in docs/`);
      else if (!known.has(anchor)) broken.push(`${rel}: ${file}#${anchor}`);
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 50, `only ${checked} pointers found: the pattern no longer matches how code points at docs/`);
});
