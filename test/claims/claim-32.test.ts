import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_ROOM } from '../../src/slot/cell-writer.js';
import { cellOffset, Direction } from '../../src/slot/layout.js';
import { RecordKind } from '../../src/slot/record.js';
import { WriterMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 32: before writing, the process determines whether its region is writable, and does not write when it is not', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer, layout } = c.slot;
    await c.freezeProxy(); // nothing is read, so the ring fills
    const msg = Buffer.alloc(32);
    for (let i = 0; i < layout.cellCount; i++) {
      const cell = writer.currentCell;
      assert.equal(up.isWritable(cell), true, `cell ${cell} is writable before writing`);
      fillPayload(msg, i);
      assert.ok(c.write('second', msg));
      writer.signal(writer.seal());
    }
    const full = writer.currentCell;
    assert.equal(up.writerMark(full), WriterMark.NOT_WRITABLE);
    assert.equal(up.isWritable(full), false, 'the process finds the region not writable');
    const at = cellOffset(layout, Direction.UP, full);
    const before = Buffer.from(c.slot.memory.bytes.subarray(at, at + layout.cellStride));
    fillPayload(msg, layout.cellCount);
    assert.equal(writer.writeMessage(RecordKind.SEND, Buffer.from('second'), 0, msg, 0, msg.length, 0), NO_ROOM, 'so it does not write');
    assert.deepEqual(Buffer.from(c.slot.memory.bytes.subarray(at, at + layout.cellStride)), before, 'the cell is untouched');
    c.thawProxy();
    const r = await c.second.call('collect', { count: layout.cellCount });
    assert.deepEqual(r.bad, []);
    assert.equal(r.perSender[c.address], layout.cellCount);
    assert.equal(up.isWritable(full), true, 'writable again once the proxy has read it');
  } finally {
    await c.close();
  }
});
