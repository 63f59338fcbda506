import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { ReaderMark, WriterMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 36: the proxy learns there is data from the proxy mark device changing, not by scanning slots', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer, reader } = c.slot;
    const msg = Buffer.alloc(40);
    fillPayload(msg, 0);
    c.write('second', msg);
    const cell = writer.seal(); // data written, process mark device not writable, proxy mark device untouched
    // Make the proxy busy with other work on this very slot: the other process sends to us.
    assert.equal(reader.sleep(), true);
    const ring = c.nextRing();
    await c.second.call('send', { to: 'first', count: 1, size: 16 });
    await ring;
    assert.ok(reader.take(), 'the proxy was awake and worked on this slot');
    const stats = (await requestStatus(c.rig.socket)) as ProxyStats;
    assert.equal(stats.slots.find((s) => s.name === 'first')!.messagesIn, 0, 'yet it read nothing from it');
    assert.equal(up.writerMark(cell), WriterMark.NOT_WRITABLE);
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE, 'because the proxy mark device did not change');
    writer.signal(cell);
    const r = await c.second.call('collect', { count: 1 });
    assert.equal(r.perSender[c.address], 1, 'once it changed, the proxy read the data');
  } finally {
    await c.close();
  }
});
