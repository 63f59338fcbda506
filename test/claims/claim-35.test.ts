import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReaderMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 35: the proxy mark device changes because the process writes to its process mark device (the doorbell)', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer } = c.slot;
    assert.equal(up.readerIsSleeping(), true, 'the proxy has said it sleeps on this slot');
    await c.freezeProxy();
    const msg = Buffer.alloc(24);
    fillPayload(msg, 0);
    c.write('second', msg);
    const first = writer.seal();
    const rung = up.counters.rung;
    writer.signal(first);
    assert.equal(up.readerMark(first), ReaderMark.READABLE);
    assert.equal(up.counters.rung, rung + 1, 'the write to the device rang the proxy\'s doorbell (one eventfd write)');
    assert.equal(up.readerIsSleeping(), false, 'and took down the proxy\'s sleep flag');
    // The proxy has not woken yet, so a second change needs no doorbell (suppression).
    fillPayload(msg, 1);
    c.write('second', msg);
    const saved = up.counters.saved;
    writer.signal(writer.seal());
    assert.equal(up.counters.rung, rung + 1);
    assert.equal(up.counters.saved, saved + 1);
    c.thawProxy();
    const r = await c.second.call('collect', { count: 2 });
    assert.deepEqual(r.bad, []);
    assert.equal(r.perSender[c.address], 2, 'one wake-up, both cells read');
  } finally {
    await c.close();
  }
});
