/**
 * Publications lose nothing when the link between the proxies drops: the connection is cut
 * again and again while a publisher streams; every subscriber on the other host receives
 * every publication exactly once, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from '../helpers/mesh.js';
import { Relay, cutRepeatedly } from '../helpers/relay.js';
import { startPubsubWorker, type Worker } from '../helpers/worker.js';

test('link cut repeatedly while a publisher streams: each remote subscriber gets every publication once, in order', { timeout: 120_000 }, async () => {
  let relay!: Relay;
  const mesh = await Mesh.start({
    front: async (port) => {
      relay = await Relay.start(port);
      return relay.port;
    },
    args: ['--heartbeat-ms', '200'],
  });
  const workers: Worker[] = [];
  const start = async (side: 'alpha' | 'beta', name: string) => {
    const w = await startPubsubWorker();
    workers.push(w);
    await w.call('connect', { socket: mesh.socket(side), name });
    return w;
  };
  try {
    const subs = [await start('beta', 'sub0'), await start('beta', 'sub1')];
    for (const s of subs) await s.call('subscribe', { subject: 'ticks.>', key: 't' });
    await mesh.waitForRemoteSubject('alpha', 'ticks.>');
    const pub = await start('alpha', 'ticker');
    const count = 150_000;
    let publishing = true;
    const done = pub.call('publish', { subject: 'ticks.eu', count, size: 100, publisher: 1 }).then(() => (publishing = false));
    const { whileBusy } = await cutRepeatedly(relay, async () => (await mesh.status('alpha')).links[0]!.status.state === 'up', () => publishing, 5);
    await done;
    assert.ok(whileBusy > 0, 'the link was cut while publications were in flight');
    for (const s of subs) {
      const r = await s.call('received', { key: 't', count, timeout: 60_000 });
      assert.deepEqual(r.bad, [], 'in order');
      assert.equal(r.received, count, 'exactly once: nothing lost, nothing twice');
    }
    const alpha = await mesh.status('alpha');
    assert.ok(alpha.links[0]!.reconnects >= 5, `the link came back after each cut (${alpha.links[0]!.reconnects})`);
    assert.equal(alpha.publications.sentToPeers, count, 'once over the link, however many subscribers beta has');
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await relay?.close();
    await mesh.close();
  }
});
