/** The supported Node range, as a user meets it: `alga-runner` on a Node it does not support. The
 * Node version is faked (process.versions.node) by a module loaded with `--import` before the CLI. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../support/components.js';

const CLI = join(projectRoot(), 'bin', 'alga-runner.js');

function runAs(version: string) {
  const fake = `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"${version}"}})`;
  return spawnSync(process.execPath, ['--import', fake, CLI, '--help'], { encoding: 'utf8', cwd: projectRoot() });
}

for (const version of ['20.18.0', '18.20.4', '20.9.0']) {
  test(`Node ${version} (below the floor): a one-line message naming the supported range, exit 1, no stack trace`, () => {
    const r = runAs(version);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `alga-node-runner needs Node 20.18.1 or later, through 24.x; this is Node ${version}. Install a supported Node (20, 22 or 24) and run it again.\n`);
  });
}

for (const version of ['20.18.1', '22.0.0', '24.22.3']) {
  test(`Node ${version} (supported): the command runs, nothing about the version`, () => {
    const r = runAs(version);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^alga-runner — /);
    assert.equal(r.stderr, '');
  });
}

test('a Node newer than 24: the command runs, with one line saying it is untested', () => {
  const r = runAs('26.1.0');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, 'alga-node-runner is tested on Node 20, 22 and 24; Node 26.1.0 is newer and untested.\n');
});

test('the range in package.json engines is the one the check enforces', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { engines: { node: string } };
  assert.equal(pkg.engines.node, '>=20.18.1 <25');
});
