/** The shared HTTP server's error handling (used by the platform and the runner service). */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { Server } from 'node:http';
import { createHttpServer, listen } from '../../src/shared/http-server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { sendJson } from '../../src/shared/http-error.js';

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
