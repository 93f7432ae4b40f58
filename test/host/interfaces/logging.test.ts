import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogFields } from '../../../src/shared/logger.js';
import { callHost, executionContext } from '../support.js';

test('logging: each level reaches the logger with the request\'s tenant and extension', async () => {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const ctx = executionContext();
  const sink = (level: string) => (msg: string, fields?: LogFields) => lines.push({ level, msg, fields });
  ctx.logger = { debug: sink('debug'), info: sink('info'), warn: sink('warn'), error: sink('error'), child: () => ctx.logger };
  await callHost(ctx, 'alga:extension/logging', 'logInfo', 'a');
  await callHost(ctx, 'alga:extension/logging', 'logWarn', 'b');
  await callHost(ctx, 'alga:extension/logging', 'logError', 'c');
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['info', 'a'], ['warn', 'b'], ['error', 'c']]);
  assert.equal(lines[0]!.fields!.tenant, 'tenant-1');
  assert.equal(lines[0]!.fields!.source, 'ext');
  assert.deepEqual(ctx.guestLogs.map((l) => l.message), ['a', 'b', 'c']);
});

test('logging: without cap:log.emit lines are dropped silently (no error, no trap)', async () => {
  const ctx = executionContext();
  (ctx.granted as Set<string>).delete('cap:log.emit');
  assert.deepEqual(await callHost(ctx, 'alga:extension/logging', 'logInfo', 'x'), { ok: undefined });
  assert.equal(ctx.guestLogs.length, 0);
});
