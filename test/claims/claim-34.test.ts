import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReaderMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 34: the process changes the proxy mark device to "readable by the proxy"', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer } = c.slot;
    const cell = writer.currentCell;
    await c.freezeProxy(); // hold the proxy so the readable state can be seen before it acts
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE, 'second state: not readable');
    const msg = Buffer.alloc(24);
    fillPayload(msg, 0);
    c.write('second', msg);
    writer.seal();
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE);
    writer.signal(cell);
    assert.equal(up.readerMark(cell), ReaderMark.READABLE, 'first state: readable by the proxy');
    assert.equal(up.isReadable(cell), true);
    c.thawProxy();
    const r = await c.second.call('collect', { count: 1 });
    assert.equal(r.perSender[c.address], 1);
  } finally {
    await c.close();
  }
});
