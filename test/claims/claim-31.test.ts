import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriterMark, ReaderMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 31: after writing into its slot, the process sets its process mark device to "not writable"', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer } = c.slot;
    const cell = writer.currentCell;
    assert.equal(up.writerMark(cell), WriterMark.WRITABLE, 'second state before: writable');
    const msg = Buffer.alloc(32);
    fillPayload(msg, 0);
    assert.ok(c.write('second', msg), 'the process writes into its region');
    assert.equal(up.writerMark(cell), WriterMark.WRITABLE, 'still writable while the process fills the cell');
    assert.equal(writer.seal(), cell);
    assert.equal(up.writerMark(cell), WriterMark.NOT_WRITABLE, 'first state after writing: not writable');
    assert.equal(up.isWritable(cell), false);
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE, 'the proxy has not been told yet');
    writer.signal(cell);
    const r = await c.second.call('collect', { count: 1 });
    assert.deepEqual(r.bad, []);
    assert.equal(r.perSender[c.address], 1, 'the message went through the proxy to the other process');
  } finally {
    await c.close();
  }
});
