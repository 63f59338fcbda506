/**
 * Back pressure: a receiver that stops reading makes its senders wait — their slots stop
 * being writable and send() waits — with the proxy's memory bounded; nothing is lost
 * and order holds when it reads again. Other pairs keep going meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../src/client/connect.js';
import { requestStatus } from '../src/client/registration.js';
import type { ProxyStats } from '../src/proxy/stats.js';
import { fillPayload } from './helpers/payload.js';
import { Rig } from './helpers/rig.js';

const status = async (socket: string, name: string) => ((await requestStatus(socket)) as ProxyStats).slots.find((s) => s.name === name)!;

test('a stopped receiver makes its sender wait, within bounded memory, and loses nothing', async () => {
  const maxQueued = 256 * 1024;
  const cellBytes = 16384;
  const rig = await Rig.start(['--cells', '4', '--cell-bytes', String(cellBytes), '--max-queued-bytes', String(maxQueued)]);
  try {
    const slow = await rig.worker('slow', { consume: false, maxInboxBytes: 64 * 1024 });
    const other = await rig.worker('other');
    const sender = await connect({ name: 'sender', socket: rig.socket });
    const side = await connect({ name: 'side', socket: rig.socket });
    const size = 1000;
    const total = 4000; // 4 MB: far more than every buffer on the way together
    let sent = 0;
    const pump = (async () => {
      for (; sent < total; sent++) {
        const buf = Buffer.alloc(size);
        fillPayload(buf, sent);
        await sender.send('slow', buf);
      }
    })();

    // Wait until the proxy holds off reading the sender and the sender's ring is full: from
    // then on the sender cannot get anything out until the receiver reads again.
    const cells = sender.slot.layout.cellCount;
    const ringFull = () => Array.from({ length: cells }, (_, i) => i).every((i) => !sender.slot.up.isWritable(i));
    // (Paused first, full after: once paused, a full ring stays full.)
    while (!((await status(rig.socket, 'sender')).readingPaused && ringFull())) await new Promise((r) => setImmediate(r));
    assert.equal(sender.stats().waitingForSlot, true, 'send() is waiting for the slot');
    const stuckAt = sent;
    assert.ok(stuckAt < total, 'the sender cannot get everything out while the receiver is stopped');

    // Meanwhile another pair on the same proxy goes at full speed.
    const buf = Buffer.alloc(size);
    for (let i = 0; i < 2000; i++) {
      fillPayload(buf, i);
      if (!side.trySend('other', buf)) await side.send('other', Buffer.from(buf));
    }
    const r = await other.call('collect', { count: 2000 });
    assert.equal(r.received, 2000);
    assert.deepEqual(r.bad, []);

    assert.equal(sent, stuckAt, 'the stopped receiver\'s sender made no progress meanwhile');
    const slowSlot = await status(rig.socket, 'slow');
    const senderSlot = await status(rig.socket, 'sender');
    assert.ok(slowSlot.queuedBytes <= maxQueued + cellBytes + size, `the proxy's queue for the receiver stays bounded (${slowSlot.queuedBytes} bytes)`);
    assert.ok(senderSlot.backPressureWaits >= 1);
    assert.equal(sender.stats().queuedBytes, size, 'the client holds only the one send that is waiting');

    await slow.call('resume');
    await pump;
    const got = await slow.call('collect', { count: total });
    assert.equal(got.received, total);
    assert.deepEqual(got.bad, []);
    await sender.close();
    await side.close();
  } finally {
    await rig.close();
  }
});
