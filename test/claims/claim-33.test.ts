import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CellHeader, cellOffset, Direction } from '../../src/slot/layout.js';
import { WriterMark } from '../../src/slot/mark-devices.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { fillPayload } from '../helpers/payload.js';

test('claim 33: the process decides writability by checking the state of its process mark device', async () => {
  const c = await ClaimRig.start();
  try {
    const { up, writer, layout, memory } = c.slot;
    const cell = writer.currentCell;
    const word = (cellOffset(layout, Direction.UP, cell) + CellHeader.WRITER_MARK) >> 2;
    const raw = () => Atomics.load(memory.words, word);
    assert.equal(raw(), WriterMark.WRITABLE);
    assert.equal(up.isWritable(cell), true);
    await c.freezeProxy();
    const msg = Buffer.alloc(16);
    fillPayload(msg, 0);
    c.write('second', msg);
    writer.signal(writer.seal());
    assert.equal(raw(), WriterMark.NOT_WRITABLE, 'the device word in shared memory');
    assert.equal(up.isWritable(cell), false, 'is what the check reports');
    c.thawProxy();
    await c.second.call('collect', { count: 1 });
    assert.equal(raw(), WriterMark.WRITABLE);
    assert.equal(up.isWritable(cell), true);
    // The check reads the device, not a copy: a value outside its two states is refused.
    Atomics.store(memory.words, word, 42);
    assert.throws(() => up.isWritable(cell), { code: 'SLOTLINK_ERR_BAD_SLOT', message: /writer mark holds 42/ });
    Atomics.store(memory.words, word, WriterMark.WRITABLE);
  } finally {
    await c.close();
  }
});
