import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callHost, executionContext } from '../support.js';

const user = { tenantId: 't', userId: 'u1', userEmail: 'u@x', userName: 'U', userType: 'internal', clientName: 'Acme', clientId: 'c1', additionalFields: { team: 'ops' } };

for (const iface of ['alga:extension/user', 'alga:extension/user-v2'] as const) {
  test(`${iface}: not-allowed without cap:user.read, not-available without a user`, async () => {
    const noCap = executionContext({ user });
    (noCap.granted as Set<string>).delete('cap:user.read');
    assert.deepEqual(await callHost(noCap, iface, 'getUser'), { err: 'not-allowed' });
    assert.deepEqual(await callHost(executionContext(), iface, 'getUser'), { err: 'not-available' });
  });

  test(`${iface}: the record carries every historical field (company-name beside client-name)`, async () => {
    const out = (await callHost(executionContext({ user }), iface, 'getUser')) as { ok: Record<string, unknown> };
    assert.equal(out.ok.clientName, 'Acme');
    assert.equal(out.ok.companyName, 'Acme');
    assert.equal(out.ok.userType, 'internal');
    assert.equal(out.ok.clientId, 'c1');
    assert.deepEqual(out.ok.additionalFields, [['team', 'ops']]);
  });
}
