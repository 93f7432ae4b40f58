/**
 * The guest half of wasi:http (src/host/sandbox/wasi-http.ts): the resources componentize-js's
 * `fetch()` drives, called in the order it calls them, with the bridge replaced by a recorder that
 * answers as the host half would. Through a real component: wasi-http.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostOutcome } from '../../../src/host/sandbox/protocol.js';
import { withOutgoingHttp } from '../../../src/host/sandbox/wasi-http.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function setup(answer: HostOutcome = { ok: { status: 200, headers: [{ name: 'x-a', value: 'b' }], body: enc('hello') } }, maxBody = 1 << 20) {
  const calls: { iface: string; fn: string; args: unknown[] }[] = [];
  const imports = withOutgoingHttp(
    { 'wasi:http/types': {}, 'wasi:http/types@0.2.3': {}, 'wasi:http/outgoing-handler': { handle: () => 'shim' }, 'wasi:http/outgoing-handler@0.2.3': { handle: () => 'shim' }, 'wasi:io/poll': { x: 1 } },
    (iface, fn, args) => {
      calls.push({ iface, fn, args });
      return answer;
    },
    () => maxBody,
  );
  const t = imports['wasi:http/types'] as any;
  const h = imports['wasi:http/outgoing-handler'] as any;
  return { calls, imports, t, h };
}

function request(t: any, headers: [string, Uint8Array][] = []) {
  const req = new t.OutgoingRequest(t.Fields.fromList(headers));
  req.setMethod({ tag: 'post' });
  req.setScheme({ tag: 'HTTP' });
  req.setAuthority('127.0.0.1:8080');
  req.setPathWithQuery('/p?q=1');
  return req;
}

describe('wasi:http resources (guest thread)', () => {
  test('every version of types and outgoing-handler is ours; the rest of the import object is untouched', () => {
    const { imports } = setup();
    assert.equal(imports['wasi:http/types'], imports['wasi:http/types@0.2.3']);
    assert.equal(imports['wasi:http/outgoing-handler'], imports['wasi:http/outgoing-handler@0.2.3']);
    assert.notEqual((imports['wasi:http/outgoing-handler'] as any).handle(), 'shim');
    assert.deepEqual(imports['wasi:io/poll'], { x: 1 });
  });

  test('a request without a body is sent once, when the guest asks for the response; the response reads back whole', () => {
    const { calls, t, h } = setup();
    const req = new t.OutgoingRequest(t.Fields.fromList([['x-test', enc('hi')]]));
    req.setAuthority('127.0.0.1:8080');
    req.setPathWithQuery('/x');
    req.setScheme({ tag: 'HTTP' });
    const options = new t.RequestOptions();
    options.setFirstByteTimeout(250_000_000n);
    const future = h.handle(req, options);
    assert.equal(calls.length, 0, 'nothing sent before the guest polls');
    assert.equal(future.subscribe().ready(), true);
    const got = future.get();
    assert.deepEqual(calls, [{ iface: 'wasi:http/outgoing-handler', fn: 'handle', args: [{ method: 'GET', url: 'http://127.0.0.1:8080/x', headers: [{ name: 'x-test', value: 'hi' }], body: undefined, connectTimeoutMs: undefined, firstByteTimeoutMs: 250, betweenBytesTimeoutMs: undefined }] }]);
    assert.equal(got.tag, 'ok');
    assert.equal(got.val.tag, 'ok');
    const res = got.val.val;
    assert.equal(res.status(), 200);
    assert.deepEqual(res.headers().get('X-A').map(dec), ['b']);
    assert.throws(() => res.headers().append('x', enc('y')), (e: any) => e.tag === 'immutable');
    const body = res.consume();
    assert.throws(() => res.consume());
    const stream = body.stream();
    assert.equal(dec(stream.read(3n)), 'hel');
    assert.equal(dec(stream.blockingRead(100n)), 'lo');
    assert.throws(() => stream.read(1n), (e: any) => e.tag === 'closed');
    assert.deepEqual(t.IncomingBody.finish(body).get(), { tag: 'ok', val: { tag: 'ok', val: undefined } });
    assert.deepEqual(future.get(), { tag: 'err', val: undefined }, 'a response is taken once');
    assert.equal(calls.length, 1);
  });

  test('a request with a body waits for OutgoingBody.finish and carries every written byte', () => {
    const { calls, t, h } = setup();
    const req = request(t, [['content-type', enc('text/plain')]]);
    const body = req.body();
    assert.throws(() => req.body(), 'the body is taken once');
    const out = body.write();
    const future = h.handle(req, undefined);
    out.checkWrite();
    out.write(enc('pay'));
    out.blockingWriteAndFlush(enc('load'));
    out.blockingFlush();
    assert.equal(future.get(), undefined, 'not ready while the body is open');
    assert.equal(calls.length, 0);
    t.OutgoingBody.finish(body, undefined);
    assert.throws(() => out.write(enc('more')), (e: any) => e.tag === 'closed');
    const got = future.get();
    assert.equal(got.val.tag, 'ok');
    const call = calls[0]!.args[0] as any;
    assert.equal(call.method, 'POST');
    assert.equal(call.url, 'http://127.0.0.1:8080/p?q=1');
    assert.equal(dec(call.body), 'payload');
  });

  test('a body shorter or longer than its content-length: HTTP-request-body-size, nothing sent', () => {
    const { calls, t, h } = setup();
    const req = request(t, [['content-length', enc('10')]]);
    const body = req.body();
    body.write().write(enc('short'));
    const future = h.handle(req, undefined);
    assert.throws(() => t.OutgoingBody.finish(body, undefined), (e: any) => e.tag === 'HTTP-request-body-size' && e.val === 5n);
    assert.deepEqual(future.get(), { tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-body-size', val: undefined } } });
    assert.equal(calls.length, 0);
  });

  test('a body written past the bound (ALGA_FETCH_MAX_BYTES): nothing more kept, HTTP-request-body-size (the bound) as the response, nothing sent', () => {
    for (const write of [(o: any) => o.write(enc('x'.repeat(5))), (o: any) => o.blockingWriteAndFlush(enc('x'.repeat(5))), (o: any) => o.writeZeroes(5n), (o: any) => o.writeZeroes(2n ** 62n)]) {
      const { calls, t, h } = setup(undefined, 8);
      const req = request(t);
      const body = req.body();
      const out = body.write();
      const future = h.handle(req, undefined);
      out.write(enc('1234'));
      // No write fails (the guest's fetch() traps on a failed write): the bytes are not kept.
      write(out);
      out.write(enc('1'));
      assert.deepEqual(body.chunks, [], 'what was written is dropped');
      t.OutgoingBody.finish(body, undefined);
      assert.deepEqual(future.get(), { tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-body-size', val: 8n } } });
      assert.equal(calls.length, 0);
    }
    // Up to the bound exactly: sent whole.
    const { calls, t, h } = setup(undefined, 8);
    const req = request(t);
    const body = req.body();
    body.write().write(enc('12345678'));
    const future = h.handle(req, undefined);
    t.OutgoingBody.finish(body, undefined);
    assert.equal(future.get().val.tag, 'ok');
    assert.equal(dec((calls[0]!.args[0] as any).body), '12345678');
  });

  test("the host's error-code reaches the guest as the future's error; a trap of the bridge as internal-error", () => {
    const denied = setup({ err: { tag: 'HTTP-request-denied' } });
    assert.deepEqual(denied.h.handle(request(denied.t), undefined).get(), { tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-denied' } } });
    const trapped = setup({ trap: 'host error' });
    assert.deepEqual(trapped.h.handle(request(trapped.t), undefined).get(), { tag: 'ok', val: { tag: 'err', val: { tag: 'internal-error', val: 'host error' } } });
  });

  test('no authority: HTTP-request-URI-invalid without a host call; headers: syntax, forbidden names, immutable once in a request', () => {
    const { calls, t, h } = setup();
    const req = new t.OutgoingRequest(new t.Fields());
    assert.deepEqual(h.handle(req, undefined).get(), { tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-URI-invalid' } } });
    assert.equal(calls.length, 0);
    const f = new t.Fields();
    assert.throws(() => f.append('bad name', enc('x')), (e: any) => e.tag === 'invalid-syntax');
    assert.throws(() => f.append('x-ok', enc('a\r\nb')), (e: any) => e.tag === 'invalid-syntax');
    assert.throws(() => f.set('Host', [enc('evil.example')]), (e: any) => e.tag === 'forbidden');
    f.set('x-a', [enc('1'), enc('2')]);
    assert.deepEqual(f.clone().get('x-a').map(dec), ['1', '2']);
    const inRequest = new t.OutgoingRequest(f);
    assert.throws(() => inRequest.headers().delete('x-a'), (e: any) => e.tag === 'immutable');
    assert.throws(() => inRequest.setMethod({ tag: 'other', val: 'NOT A TOKEN' }));
  });
});
