/**
 * Conformance: the proxy's shutdown drain, for every client. A client streaming (in batches,
 * so cells are often partly filled) gets `draining`, commits what it accepted, answers
 * `flushed`, and ends with SLOTLINK_ERR_PROXY_SHUTDOWN; a receiver of the same kind still
 * reads everything committed to it. Every message the sender accepted arrives, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KINDS } from './driver.js';
import { Host } from './rig.js';

for (const kind of KINDS) {
  test(`${kind}: SIGTERM to the proxy mid-stream: drained, flushed, nothing accepted is lost`, { timeout: 60_000 }, async () => {
    const host = await Host.start(['--cells', '4', '--cell-bytes', '16384']);
    try {
      const sink = await host.worker(kind, `sink-${kind}`);
      const sender = await host.worker(kind, `sender-${kind}`);
      await sender.call('sendForever', { to: `sink-${kind}`, size: 200, report: 5000 });
      await sender.waitFor((e) => e.event === 'progress');
      const stopped = host.proxy.stop();
      const closed = await sender.waitFor((e) => e.event === 'close');
      assert.equal(closed.code, 'SLOTLINK_ERR_PROXY_SHUTDOWN');
      assert.equal(await stopped, 0, 'the proxy exits 0');
      assert.ok(!host.proxy.logs.some((l) => l.includes('undelivered')), 'the proxy did not give up on anything');
      const accepted = (await sender.call('stats')).messagesOut as number;
      const r = await sink.call('collect', { count: accepted, timeout: 15_000 });
      assert.deepEqual(r.bad, [], 'in order, intact');
      assert.equal(r.received, accepted, `all ${accepted} messages the sender accepted arrived`);
    } finally {
      await host.close();
    }
  });
}
