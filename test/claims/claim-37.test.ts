import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReaderMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 37: the proxy reads the data, then sets the proxy mark device to "not readable"', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer } = c.slot;
    await c.freezeProxy();
    const msg = Buffer.alloc(300);
    fillPayload(msg, 0);
    c.write('second', msg);
    const cell = writer.seal();
    writer.signal(cell);
    assert.equal(up.readerMark(cell), ReaderMark.READABLE);
    c.thawProxy();
    const r = await c.second.call('collect', { count: 1 });
    assert.deepEqual(r.bad, [], 'the proxy read the data intact');
    assert.equal(r.perSender[c.address], 1);
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE, 'second state once read');
  } finally {
    await c.close();
  }
});
