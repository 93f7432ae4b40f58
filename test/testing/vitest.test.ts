/** The same test-kit suite passes under vitest (a real `vitest run` process on test/testing/vitest/). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../support/components.js';

test('the test kit suite passes under vitest', async () => {
  const root = projectRoot();
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  delete env.FORCE_COLOR;
  const child = spawn(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', root, '--dir', 'test/testing/vitest', '--reporter', 'verbose'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  assert.equal(code, 0, plain);
  assert.match(plain, /Tests\s+7 passed \(7\)/, plain);
});
