/**
 * Conformance: name@node across two real proxies linked over TLS (a shared secret), for
 * every pair of clients: requests and replies, and sends in order, alpha -> beta.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PAIRS } from './driver.js';
import { TwoHosts } from './rig.js';

let hosts: TwoHosts;
before(async () => {
  hosts = await TwoHosts.start();
});
after(() => hosts.close());

for (const [a, b] of PAIRS) {
  test(`${a}@alpha -> ${b}@beta: name@node requests and sends`, async () => {
    const far = await hosts.worker(b, 'beta', `far-${a}-${b}`, { respond: 'echo' });
    const near = await hosts.start(a);
    const { address } = await near.call('connect', { socket: hosts.mesh.socket('alpha'), name: `near-${a}-${b}` });
    assert.match(address, /@alpha$/);
    assert.equal((await near.call('request', { to: `far-${a}-${b}@beta`, data: 'across' })).reply, 'across');
    assert.deepEqual(await near.call('request', { to: `far-${a}-${b}@beta`, size: 256 * 1024 }), { bytes: 256 * 1024, intact: true });
    await near.call('send', { to: `far-${a}-${b}@beta`, count: 500, size: 200 });
    const r = await far.call('collect', { count: 500 });
    assert.deepEqual(r.bad, []);
    assert.equal(r.perSender[address], 500, 'the sender is seen by its instance address on alpha');
    assert.equal((await near.callError('request', { to: `nobody@beta`, timeout: 5000 })).code, 'SLOTLINK_ERR_NO_ROUTE', 'beta answers for its own names');
    await Promise.all([near.end(), far.end()]);
  });
}
