/** The line ring (sandbox/line-ring.ts): lines come out as they went in, in order, across the ring's
 * end; a line that does not fit is refused, never cut; the main thread is nudged once per drain; and
 * once a line had to go as a message, the later ones of that execution do too (order kept). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineRing, LineSender, lineRingBuffer, type RingLine } from '../../../src/host/sandbox/line-ring.js';

test('lines come out whole and in order, many times round a small ring', () => {
  const buffer = lineRingBuffer(512);
  const writer = new LineRing(buffer);
  const reader = new LineRing(buffer);
  const fields = { source: 'ext', tenant: 't-ü', n: 3 };
  const got: RingLine[] = [];
  const sent: RingLine[] = [];
  for (let i = 0; i < 500; i++) {
    const line: RingLine =
      i % 4 === 3
        ? { kind: 'stdio', taskId: i, stream: i % 8 === 3 ? 'stderr' : 'stdout', line: `out ${i} ${'x'.repeat(i % 37)}` }
        : { kind: 'log', taskId: 7, level: (['info', 'warn', 'error'] as const)[i % 3]!, msg: `m${i} ${'€😀'.repeat(i % 11)}`, ...(i % 5 ? { fields: i % 2 ? fields : { i } } : {}) };
    let written = writer.write(line);
    if (!written) {
      got.push(...reader.drain());
      written = writer.write(line);
    }
    assert.ok(written, `line ${i} fits an empty ring`);
    sent.push(line);
    if (i % 13 === 0) got.push(...reader.drain());
  }
  got.push(...reader.drain());
  assert.deepEqual(got, sent);
  assert.deepEqual(reader.drain(), []);
});

test('a line larger than the free space is refused, and nothing of it is written', () => {
  const buffer = lineRingBuffer(128);
  const writer = new LineRing(buffer);
  const reader = new LineRing(buffer);
  assert.ok(writer.write({ kind: 'log', taskId: 1, level: 'info', msg: 'a' }));
  assert.equal(writer.write({ kind: 'log', taskId: 1, level: 'info', msg: 'b'.repeat(200) }), false);
  assert.equal(writer.write({ kind: 'log', taskId: 1, level: 'info', msg: 'c', fields: { big: 1n } }), false, 'fields that are not JSON');
  assert.deepEqual(reader.drain(), [{ kind: 'log', taskId: 1, level: 'info', msg: 'a' }]);
});

test('the writer nudges on the first line after a drain only', () => {
  const buffer = lineRingBuffer(1024);
  const writer = new LineRing(buffer);
  const reader = new LineRing(buffer);
  const line: RingLine = { kind: 'log', taskId: 1, level: 'info', msg: 'x' };
  assert.equal(writer.write(line), 'nudge');
  assert.equal(writer.write(line), true);
  assert.equal(reader.drain().length, 2);
  assert.equal(writer.write(line), 'nudge');
});

test('after a line that did not fit, the later lines are messages too, even once the ring has room', () => {
  const buffer = lineRingBuffer(256);
  const reader = new LineRing(buffer);
  const seen: string[] = [];
  // The main thread's view: a message comes after the ring's lines written before it.
  const sender = new LineSender(new LineRing(buffer), (line) => {
    if (line === 'nudge') return;
    for (const l of reader.drain()) seen.push((l as { msg: string }).msg);
    seen.push((line as { msg: string }).msg);
  });
  const log = (msg: string) => sender.send({ kind: 'log', taskId: 1, level: 'info', msg });
  log('a');
  log('b'.repeat(300)); // does not fit: posted (after the ring's 'a')
  log('c'); // the ring has room now, but a message before it is still in flight
  log('d');
  const queued = seen.length;
  for (const l of reader.drain()) seen.push((l as { msg: string }).msg);
  assert.deepEqual(seen, ['a', 'b'.repeat(300), 'c', 'd']);
  assert.equal(queued, 4, 'c and d were posted, not left in the ring');
  sender.reset();
  log('e');
  assert.deepEqual(reader.drain().map((l) => (l as { msg: string }).msg), ['e'], 'a new execution uses the ring again');
});
