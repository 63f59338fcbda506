/**
 * Nothing lost, nothing duplicated: the connection between the proxies is cut again and
 * again while streams of messages are in flight; every message arrives exactly once, in
 * order per sender.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from '../helpers/mesh.js';
import { Relay, cutRepeatedly } from '../helpers/relay.js';

test('connection cut repeatedly mid-stream: every message arrives exactly once, in order', { timeout: 120_000 }, async () => {
  let relay!: Relay;
  const mesh = await Mesh.start({
    front: async (port) => {
      relay = await Relay.start(port);
      return relay.port;
    },
    args: ['--heartbeat-ms', '200'],
  });
  try {
    const senders = [await mesh.worker('alpha', 'src0'), await mesh.worker('alpha', 'src1')];
    const back = await mesh.worker('beta', 'src2');
    const sink = await mesh.worker('beta', 'sink');
    const home = await mesh.worker('alpha', 'home');
    const each = 60_000;
    const streams = [
      ...senders.map((s) => s.call('send', { to: 'sink@beta', count: each, size: 120 })),
      back.call('send', { to: 'home@alpha', count: each, size: 90 }),
    ];
    // Cut at random points until every stream has been written, and a few more times.
    let streaming = true;
    void Promise.all(streams).then(() => (streaming = false));
    await cutRepeatedly(relay, async () => (await mesh.status('alpha')).links[0]!.status.state === 'up', () => streaming, 8).catch(async (err: Error) =>
      assert.fail(`streams did not finish: ${err.message}; alpha: ${JSON.stringify((await mesh.status('alpha')).links)}`),
    );
    const [atSink, atHome] = await Promise.all([sink.call('collect', { count: 2 * each, timeout: 60_000 }), home.call('collect', { count: each, timeout: 60_000 })]);
    assert.deepEqual(atSink.bad, [], 'in order, intact');
    assert.deepEqual(atHome.bad, []);
    assert.equal(atSink.received, 2 * each, 'exactly once (no loss, no duplicate)');
    assert.equal(atHome.received, each);
    assert.deepEqual(Object.values(atSink.perSender), [each, each]);
    const sa = await mesh.status('alpha');
    const sb = await mesh.status('beta');
    assert.ok(sa.links[0]!.reconnects >= 8, `the link reconnected after each cut (${sa.links[0]!.reconnects})`);
    assert.ok(sa.links[0]!.retransmittedFrames + sb.links[0]!.retransmittedFrames > 0, 'frames in flight at a cut were sent again');
    console.log(`cuts ${relay.cuts}, reconnects ${sa.links[0]!.reconnects}/${sb.links[0]!.reconnects}, resent ${sa.links[0]!.retransmittedFrames}/${sb.links[0]!.retransmittedFrames}, duplicates dropped ${sa.links[0]!.duplicatesDropped}/${sb.links[0]!.duplicatesDropped}`);
    // One more round after the storm: still exactly once.
    await senders[0]!.call('send', { to: 'sink@beta', count: 1000, size: 120, start: each });
    const again = await sink.call('collect', { count: 2 * each + 1000 });
    assert.equal(again.received, 2 * each + 1000);
    assert.deepEqual(again.bad, []);
  } finally {
    await relay?.close();
    await mesh.close();
  }
});
