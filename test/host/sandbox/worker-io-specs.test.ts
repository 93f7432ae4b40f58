import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerIoSpecs } from '../../../src/host/sandbox/worker-io-specs.js';

const spec = (options: unknown) => ({ module: 'file:///io.js', options });

test('a spec keeps its id, and specs equal in value share one', () => {
  const specs = new WorkerIoSpecs();
  const a = spec({ databaseUrl: 'postgres://a', data: { clients: [{ clientId: '1' }] } });
  const id = specs.idOf(a);
  assert.equal(specs.idOf(a), id);
  assert.equal(specs.idOf(spec({ databaseUrl: 'postgres://a', data: { clients: [{ clientId: '1' }] } })), id, 'a new object of the same value');
  const b = specs.idOf(spec({ databaseUrl: 'postgres://b', data: { clients: [] } }));
  assert.notEqual(b, id);
  assert.notEqual(specs.idOf({ module: 'file:///other.js', options: { databaseUrl: 'postgres://a', data: { clients: [{ clientId: '1' }] } } }), id, 'another module');
});

test("an object's id is read once: a later change to the object does not move it", () => {
  const specs = new WorkerIoSpecs();
  const options = { databaseUrl: 'postgres://a' };
  const a = spec(options);
  const id = specs.idOf(a);
  options.databaseUrl = 'postgres://b';
  assert.equal(specs.idOf(a), id);
  assert.notEqual(specs.idOf(spec({ databaseUrl: 'postgres://b' })), id);
});
