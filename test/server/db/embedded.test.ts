/**
 * The embedded cluster: a persistent (development) cluster keeps fsync on so a crash cannot corrupt
 * a developer's data, only the ephemeral test and bench clusters turn it off; and as root a data
 * folder the unprivileged postgres user cannot reach fails naming the folder and the fix.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { assertPostgresUserCanReach, startEmbeddedPostgres } from '../../../src/server/db/embedded.js';
import { testServerUrl } from '../../support/db.js';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

async function show(url: string, setting: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(`SHOW ${setting}`);
    return rows[0][setting];
  } finally {
    await c.end();
  }
}

test('a persistent cluster keeps fsync on', { timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'alga-persistent-pg-'));
  try {
    const cluster = await startEmbeddedPostgres({ dataDir });
    try {
      assert.equal(await show(cluster.url, 'fsync'), 'on');
    } finally {
      await cluster.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the ephemeral test cluster runs without fsync', { skip: process.env.DATABASE_URL ? 'DATABASE_URL is not our cluster' : false }, async () => {
  assert.equal(await show(testServerUrl(), 'fsync'), 'off');
});

test('as root, a data folder under a folder the postgres user cannot enter fails naming it and the fix', { skip: asRoot ? false : 'needs root' }, async () => {
  const locked = mkdtempSync(join(tmpdir(), 'alga-locked-')); // mode 0700, owned by root
  try {
    const dataDir = join(locked, 'data');
    await assert.rejects(startEmbeddedPostgres({ dataDir }), (err: Error) => {
      assert.match(err.message, new RegExp(`data folder ${dataDir} is inside ${locked} \\(mode 700\\)`));
      assert.match(err.message, /choose a data folder outside it \(ALGA_DATA_DIR\)/);
      assert.ok(err.message.includes(`chmod o+x ${locked}`), err.message);
      return true;
    });
  } finally {
    rmSync(locked, { recursive: true, force: true });
  }
});

test('the reach check: others may enter, or the postgres user owns the folder or is its group', () => {
  const top = mkdtempSync(join(tmpdir(), 'alga-reach-'));
  try {
    const inner = join(top, 'inner');
    mkdirSync(inner);
    chmodSync(top, 0o700);
    const st = statSync(top);
    const stranger = { uid: st.uid + 12345, gid: st.gid + 12345 };
    assert.throws(() => assertPostgresUserCanReach(join(inner, 'data'), stranger), new RegExp(`inside ${top} \\(mode 700\\)`));
    assertPostgresUserCanReach(join(inner, 'data'), { uid: st.uid, gid: stranger.gid });
    chmodSync(top, 0o750);
    assertPostgresUserCanReach(join(inner, 'data'), { uid: stranger.uid, gid: st.gid });
    chmodSync(top, 0o711);
    assertPostgresUserCanReach(join(inner, 'data'), stranger);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
