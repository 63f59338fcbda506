/**
 * SIGTERM during traffic: the proxy stops accepting, gets everything it accepted into the
 * receivers' slots (and across its link), and only then ends; receivers still read what
 * was committed to them. Every message a sender had handed over arrives, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from './helpers/mesh.js';
import { Rig } from './helpers/rig.js';

test('SIGTERM to a proxy during traffic: everything accepted before the signal is delivered', { timeout: 60_000 }, async () => {
  const rig = await Rig.start(['--cells', '4', '--cell-bytes', '16384']);
  try {
    // reconnect: false: each ends with the proxy, and the sender's end says why.
    const sink = await rig.worker('sink', { reconnect: false });
    const sender = await rig.worker('sender', { reconnect: false });
    await sender.call('sendForever', { to: 'sink', size: 200, report: 20_000 });
    await sender.waitFor((e) => e.event === 'progress');
    const stopped = rig.proxy.stop();
    const closed = await sender.waitFor((e) => e.event === 'close');
    assert.equal(closed.code, 'SLOTLINK_ERR_PROXY_SHUTDOWN');
    assert.equal(await stopped, 0, 'the proxy exits 0');
    const accepted = (await sender.call('stats')).messagesOut as number;
    const r = await sink.call('collect', { count: accepted, timeout: 10_000 });
    assert.deepEqual(r.bad, [], 'in order, intact');
    assert.equal(r.received, accepted, `all ${accepted} messages the sender's slot accepted arrived`);
    assert.ok(!rig.proxy.logs.some((l) => l.includes('undelivered')));
  } finally {
    await rig.close();
  }
});

test('SIGTERM to a proxy with a link: what it accepted for the other host gets there first', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const sink = await mesh.worker('beta', 'far-sink');
    const sender = await mesh.worker('alpha', 'far-sender', { reconnect: false });
    await sender.call('sendForever', { to: 'far-sink@beta', size: 200, report: 20_000 });
    await sender.waitFor((e) => e.event === 'progress');
    const stopped = mesh.alpha.stop();
    await sender.waitFor((e) => e.event === 'close');
    assert.equal(await stopped, 0);
    const accepted = (await sender.call('stats')).messagesOut as number;
    const r = await sink.call('collect', { count: accepted, timeout: 10_000 });
    assert.deepEqual(r.bad, []);
    assert.equal(r.received, accepted, `all ${accepted} accepted messages crossed the link before alpha exited`);
  } finally {
    await mesh.close();
  }
});
