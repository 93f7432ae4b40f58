/** Interfaces whose backing service lives in the Alga server: production's capability, install and
 * input checks hold; past them the answer is production's internal/unavailable value. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callHost, executionContext } from '../support.js';

describe('ui-proxy', () => {
  test('denied without cap:ui.proxy; route-not-found without a proxy; bad-request for empty or dot segments', async () => {
    const P = 'alga:extension/ui-proxy';
    assert.deepEqual(await callHost(executionContext(), P, 'callRoute', '/a', undefined), { err: 'denied' });
    assert.deepEqual(await callHost(executionContext({ grant: ['cap:ui.proxy'] }), P, 'callRoute', '/a', undefined), { err: 'route-not-found' });
    const withProxy = executionContext({ grant: ['cap:ui.proxy'], services: { uiProxyBaseUrl: 'http://127.0.0.1:1' } });
    for (const route of ['', '  ', '/a/../b', './x']) assert.deepEqual(await callHost(withProxy, P, 'callRoute', route, undefined), { err: 'bad-request' }, route);
  });
});
