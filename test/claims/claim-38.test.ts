import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReaderMark, WriterMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 38: the process mark device returns to "writable" in response to the proxy mark device returning to "not readable"', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer } = c.slot;
    await c.freezeProxy();
    const msg = Buffer.alloc(64);
    fillPayload(msg, 0);
    c.write('second', msg);
    const cell = writer.seal();
    writer.signal(cell);
    assert.equal(up.writerMark(cell), WriterMark.NOT_WRITABLE);
    assert.equal(up.writerWait(cell), true, 'the process waits for the cell, asking to be rung');
    const rung = c.nextRing();
    c.thawProxy();
    await rung;
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE, 'proxy mark device: not readable');
    assert.equal(up.writerMark(cell), WriterMark.WRITABLE, 'process mark device: writable again');
    assert.equal(up.writerIsWaiting(), false);
  } finally {
    await c.close();
  }
});
