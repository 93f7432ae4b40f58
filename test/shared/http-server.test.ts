/** The shared HTTP server's error handling (used by the platform and the runner service). */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { Server } from 'node:http';
import { createHttpServer, listen } from '../../src/shared/http-server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { sendJson } from '../../src/shared/http-error.js';
import { readBody } from '../../src/shared/read-body.js';
import { createPool } from '../../src/server/db/database.js';
import { request } from 'undici';
import { createTestDatabase } from '../support/db.js';

let server: Server;
let port: number;

before(async () => {
  server = createHttpServer([{ method: 'GET', path: '/healthz', handle: async (_q, res) => sendJson(res, 200, { ok: true }) }], silentLogger);
  port = await listen(server, 0, '127.0.0.1');
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Sends raw bytes, returns the status line of the answer. */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.split('\r\n')[0]!);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
  });
}

test('a request target the URL parser refuses answers 400 and the server keeps serving', async () => {
  // Node's HTTP parser accepts this absolute-form target; `new URL` throws on its port.
  const line = await raw('GET http://a:99999/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(line, /^HTTP\/1\.1 400 /);
  const ok = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(ok, /^HTTP\/1\.1 200 /);
});

test('text Postgres cannot store (a NUL byte) answers 400, not a 500, from any route', async () => {
  const db = await createTestDatabase();
  const pool = createPool(db.url, 1);
  const s = createHttpServer(
    [
      {
        method: 'POST',
        path: '/echo',
        handle: async (req, res) => {
          const { name } = JSON.parse((await readBody(req, 1024)).toString('utf8')) as { name: string };
          const r = await pool.query<{ name: string }>('SELECT $1::text AS name', [name]);
          sendJson(res, 200, r.rows[0]);
        },
      },
      { method: 'GET', path: '/decode', handle: async (_q, res, u) => sendJson(res, 200, { v: decodeURIComponent(u.search.slice(1)) }) },
    ],
    silentLogger,
  );
  const p = await listen(s, 0, '127.0.0.1');
  try {
    const post = async (name: string) => {
      const res = await request(`http://127.0.0.1:${p}/echo`, { method: 'POST', body: JSON.stringify({ name }) });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };
    assert.deepEqual(await post('fine'), { status: 200, body: { name: 'fine' } });
    const nul = await post('a\u0000b');
    assert.equal(nul.status, 400);
    assert.equal(nul.body.error, 'bad_request');
    const bad = await request(`http://127.0.0.1:${p}/decode?%E0%A4%A`);
    assert.equal(bad.statusCode, 400);
    await bad.body.dump();
    const inUrl = await request(`http://127.0.0.1:${p}/decode?tenant=%00`);
    assert.equal(inUrl.statusCode, 400);
    assert.match(((await inUrl.body.json()) as { message: string }).message, /NUL byte/);
  } finally {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
    await pool.end();
    await db.drop();
  }
});
