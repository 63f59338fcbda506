/**
 * Regression (hardening #4): a receiver that corrupted its own incoming cells got the
 * healthy *sender* evicted (the check threw inside the sender's service), and across a link
 * tore down the whole connection once per message. A fault ends the slot whose memory is
 * bad, and nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from '../helpers/mesh.js';

test('a receiver that corrupts its own slot is ended; its local and remote senders, and the link, go on', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const bad = await mesh.worker('beta', 'bad');
    const local = await mesh.worker('beta', 'local-sender');
    const remote = await mesh.worker('alpha', 'remote-sender');
    const good = await mesh.worker('beta', 'good');
    await mesh.waitForRemoteName('alpha', 'bad');
    await bad.call('garbage', { kind: 'downWriterMark' });
    // Both try to deliver into the corrupted slot.
    await remote.call('send', { to: 'bad@beta', count: 20, size: 64 });
    await local.call('send', { to: 'bad', count: 20, size: 64 });
    const closed = await bad.waitFor((e) => e.event === 'close');
    assert.equal(closed.code, 'SLOTLINK_ERR_BAD_SLOT');
    assert.match(String(closed.message), /down cell \d+: writer mark holds 7/);
    // The senders are still registered and working, and the link never dropped.
    await remote.call('send', { to: 'good@beta', count: 500, size: 64 });
    await local.call('send', { to: 'good', count: 500, size: 64, start: 0 });
    const got = await good.call('collect', { count: 1000 });
    assert.equal(got.received, 1000);
    assert.deepEqual(got.bad, []);
    assert.equal(remote.events.filter((e) => e.event === 'close').length, 0, 'the remote sender was not ended');
    assert.equal(local.events.filter((e) => e.event === 'close').length, 0, 'the local sender was not ended');
    const [sa, sb] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
    assert.equal(sa.links[0]!.reconnects + sb.links[0]!.reconnects, 0, 'the link was never torn down');
    assert.equal(sb.evictions, 1, 'one slot was ended: the bad one');
    assert.ok(sb.slots.some((x) => x.name === 'local-sender'));
  } finally {
    await mesh.close();
  }
});
