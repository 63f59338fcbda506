/**
 * Conformance: what each client gets for a destination nobody holds (NO_ROUTE for requests,
 * an undeliverable report for sends), for an address that is not one (INVALID_ADDRESS), and
 * from the proxy itself at "~proxy" (requests echoed; sends come back undeliverable).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS } from './driver.js';
import { Host } from './rig.js';

let host: Host;
before(async () => {
  host = await Host.start();
});
after(() => host.close());

for (const kind of KINDS) {
  test(`${kind}: NO_ROUTE, undeliverable sends, INVALID_ADDRESS and ~proxy`, async () => {
    const d = await host.worker(kind, `routes-${kind}`);
    assert.equal((await d.callError('request', { to: 'nobody', timeout: 5000 })).code, 'SLOTLINK_ERR_NO_ROUTE');
    assert.equal((await d.callError('request', { to: 'nobody@elsewhere', timeout: 5000 })).code, 'SLOTLINK_ERR_NO_ROUTE');
    assert.equal((await d.callError('request', { to: 'not an address' })).code, 'SLOTLINK_ERR_INVALID_ADDRESS');

    await d.call('send', { to: 'nobody', count: 1 });
    const u = await d.waitFor((e) => e.event === 'undeliverable' && e.to === 'nobody');
    assert.equal(u.code, 'SLOTLINK_ERR_NO_ROUTE');

    assert.equal((await d.call('request', { to: '~proxy', data: 'are you there' })).reply, 'are you there');
    assert.deepEqual(await d.call('request', { to: '~proxy', size: 256 * 1024 }), { bytes: 256 * 1024, intact: true });
    await d.call('send', { to: '~proxy', count: 1 });
    const p = await d.waitFor((e) => e.event === 'undeliverable' && e.to === '~proxy');
    assert.equal(p.code, 'SLOTLINK_ERR_NO_ROUTE', 'the proxy answers requests only');
    await d.end();
  });
}
