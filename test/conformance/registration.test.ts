/**
 * Conformance: registration and each refusal a client can provoke, for every client (Node,
 * C, Python), against a real proxy. Each refusal arrives with the same SLOTLINK_ERR_* code.
 * NOT_PERMITTED needs another user: not-permitted.test.ts. PROXY_SHUTDOWN needs a hello
 * arriving after the proxy began to stop but on a connection it accepted before: no client
 * can time that from outside.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KINDS } from './driver.js';
import { Host } from './rig.js';

let host: Host;
let full: Host;
before(async () => {
  [host, full] = await Promise.all([Host.start(), Host.start(['--max-slots', '1'])]);
  await full.worker('node', 'occupant');
});
after(() => Promise.all([host.close(), full.close()]));

for (const kind of KINDS) {
  test(`${kind}: registers and is refused with the proxy's codes`, async () => {
    const d = await host.start(kind);
    const refused = async (args: Record<string, unknown>) => (await d.callError('connect', { socket: host.socket, ...args })).code;

    assert.equal(await refused({ name: 'no spaces' }), 'SLOTLINK_ERR_INVALID_NAME');
    assert.equal(await refused({ name: `v-${kind}`, version: 99 }), 'SLOTLINK_ERR_PROTOCOL_VERSION');
    assert.equal(await refused({ name: `u-${kind}`, socket: join(host.dir, 'nobody-here.sock') }), 'SLOTLINK_ERR_PROXY_UNAVAILABLE');
    assert.equal((await d.callError('connect', { socket: full.socket, name: `f-${kind}` })).code, 'SLOTLINK_ERR_PROXY_FULL');

    const holder = await host.worker('node', `taken-${kind}`);
    assert.ok(holder);
    assert.equal(await refused({ name: `taken-${kind}` }), 'SLOTLINK_ERR_NAME_TAKEN');
    assert.equal(await refused({ name: `taken-${kind}`, group: true }), 'SLOTLINK_ERR_NAME_TAKEN');

    // After every refusal the same process registers normally.
    const { address } = await d.call('connect', { socket: host.socket, name: `reg-${kind}` });
    assert.match(address, new RegExp(`^reg-${kind}~\\d+\\.\\d+@conf$`));
    assert.equal((await d.call('request', { to: '~proxy', data: 'alive' })).reply, 'alive');
  });
}
