/**
 * Regression (hardening #8): a send() waiting for room in the slot never settled when the
 * proxy died. Every pending promise settles with a clear error when the endpoint closes
 * (with `reconnect: false`; an endpoint that reconnects carries them over instead:
 * test/reconnect.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/client/connect.js';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { Rig } from '../helpers/rig.js';

test('sends and writable() waiting for slot space reject with SLOTLINK_ERR_CLOSED when the proxy dies (reconnect: false)', { timeout: 60_000 }, async () => {
  const rig = await Rig.start(['--cells', '2', '--cell-bytes', '4096', '--max-queued-bytes', '8192']);
  try {
    // A receiver that never iterates holds little, so the proxy stops reading the sender.
    const receiver = await connect({ name: 'stuck', socket: rig.socket, maxInboxBytes: 4096, reconnect: false });
    const sender = await connect({ name: 'eager', socket: rig.socket, reconnect: false });
    const data = Buffer.alloc(1024);
    // Far more than every buffer on the way holds (slots, the receiver's inbox, the proxy's queue).
    let settled = 0;
    const sends = Array.from({ length: 200 }, () => {
      const p = sender.send('stuck', data);
      void p.then(() => settled++, () => {});
      return p;
    });
    // Wait until the proxy holds off reading the sender and the sender waits for room.
    for (;;) {
      const s = (await requestStatus(rig.socket)) as ProxyStats;
      if (s.slots.find((x) => x.name === 'eager')?.readingPaused && sender.stats().waitingForSlot) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(settled < sends.length, 'some sends are waiting for room');
    const writable = sender.writable().then(() => null, (err: { code?: string }) => err.code);
    rig.proxy.child.kill('SIGKILL');
    const results = await Promise.allSettled(sends.slice(settled));
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.ok(rejected.length > 0);
    for (const r of rejected) assert.equal((r as PromiseRejectedResult).reason.code, 'SLOTLINK_ERR_CLOSED');
    assert.equal(await writable, 'SLOTLINK_ERR_CLOSED');
    await assert.rejects(sender.send('stuck', data), { code: 'SLOTLINK_ERR_CLOSED' });
    await Promise.all([receiver.closed, sender.closed]);
  } finally {
    await rig.close();
  }
});
