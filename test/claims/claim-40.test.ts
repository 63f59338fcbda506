/**
 * Claim 40, host side: a shared memory with one slot per process, each slot assigned to a
 * particular process, each with process and proxy mark devices in pairs that cooperate to
 * regulate data in and out. The second server and the connection are shown in
 * test/link/two-hosts.test.ts ("claims 30, 40, 42, 52").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register } from '../../src/client/registration.js';
import { ControlOp, PROTOCOL_VERSION } from '../../src/contract/registration.js';
import { Direction, SlotHeader } from '../../src/slot/layout.js';
import { ReaderMark, WriterMark } from '../../src/slot/mark-devices.js';
import { RecordKind } from '../../src/slot/record.js';
import { Slot } from '../../src/slot/slot.js';
import { Rig } from '../helpers/rig.js';

test('claim 40: one slot per process, each with paired process and proxy mark devices that regulate data in and out', async () => {
  const rig = await Rig.start(['--cells', '4', '--cell-bytes', '1024']);
  const slots: Array<{ slot: Slot; address: string; close: () => void }> = [];
  try {
    for (const name of ['s0', 's1', 's2']) {
      const reg = await register(rig.socket, { op: ControlOp.HELLO, version: PROTOCOL_VERSION, name }, 5000);
      const slot = Slot.attach(reg.fds[0], reg.fds[1], reg.fds[2], reg.welcome.layout);
      slots.push({ slot, address: reg.welcome.address, close: () => (reg.socket.destroy(), slot.close()) });
    }
    const ids = new Set<string>();
    for (const { slot, address } of slots) {
      const v = slot.memory.view;
      const id = `${v.getUint32(SlotHeader.SLOT_ID, true)}.${v.getUint32(SlotHeader.GENERATION, true)}`;
      assert.ok(address.includes(`~${id}@`), 'the slot is assigned to this particular process');
      ids.add(id);
      for (const [device, dir] of [[slot.up, Direction.UP], [slot.down, Direction.DOWN]] as const) {
        assert.equal(device.direction, dir);
        for (let cell = 0; cell < slot.layout.cellCount; cell++) {
          assert.equal(device.writerMark(cell), WriterMark.WRITABLE, `${dir} cell ${cell}: writer device at rest`);
          assert.equal(device.readerMark(cell), ReaderMark.NOT_READABLE, `${dir} cell ${cell}: reader device at rest`);
        }
      }
    }
    assert.equal(ids.size, slots.length, 'one slot per process');
    // The pair cooperates: a write makes the partner readable, a read makes it writable again.
    const [a, b] = slots;
    const up = a!.slot.up;
    const cell = a!.slot.writer.currentCell;
    assert.equal(b!.slot.reader.sleep(), true);
    const arrived = new Promise<void>((r) => b!.slot.ownBell.watch(r));
    a!.slot.writer.writeMessage(RecordKind.SEND, Buffer.from('s1'), 0, Buffer.from('hello'), 0, 5, 0);
    a!.slot.writer.flush();
    await arrived;
    const data = b!.slot.reader.take();
    assert.ok(data && data.includes(Buffer.from('hello')), 'data out of one slot, into the other');
    assert.equal(up.readerMark(cell), ReaderMark.NOT_READABLE);
    assert.equal(up.writerMark(cell), WriterMark.WRITABLE);
  } finally {
    for (const s of slots) s.close();
    await rig.close();
  }
});
