/**
 * Unit (src/slot/mailbox.ts): a mailbox reads at most READ_BYTES_PER_TURN of records per
 * turn of the event loop, stopping in the middle of a cell if need be and going on with it
 * next turn, so a proxy serving many slots and a link comes back to the others between
 * slices of one busy slot. Every message still arrives once, in order. The slot is a real
 * memfd; the process's side is written with its own cell writer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turnEnd } from 'node:timers/promises';
import { native } from '../../src/native/binding.js';
import { CellWriter } from '../../src/slot/cell-writer.js';
import { Direction } from '../../src/slot/layout.js';
import { Mailbox, READ_BYTES_PER_TURN } from '../../src/slot/mailbox.js';
import { RecordKind, recordBytes } from '../../src/slot/record.js';
import { Slot } from '../../src/slot/slot.js';

const ADDRESS = Buffer.from('sink~1.1@beta', 'latin1');
/** Larger than the budget, so that a turn ends inside a cell. */
const CELL_BYTES = 256 * 1024;

test('a mailbox reads one budget of records per turn, mid-cell if need be; every message arrives once, in order', async () => {
  const { slot, memfd } = Slot.create(1, 1, { cellCount: 4, cellDataBytes: CELL_BYTES, maxMessageBytes: 1024 * 1024 });
  native.close(memfd);
  const got: number[] = [];
  const mailbox = new Mailbox(slot, { onMessage: (m) => void got.push(m.buffer.readUInt32LE(m.payloadStart)), onFailure: (err) => assert.fail(err) });
  try {
    // The process's side: three full cells of 64-byte messages numbered 0, 1, 2, …
    const writer = new CellWriter(slot.memory, slot.layout, Direction.UP, slot.up);
    const payload = Buffer.alloc(64);
    let sent = 0;
    while (writer.cellsCommitted < 3) {
      payload.writeUInt32LE(sent);
      assert.equal(writer.writeMessage(RecordKind.SEND, ADDRESS, 0, payload, 0, payload.length, 0), payload.length);
      sent++;
    }
    const perRecord = recordBytes(ADDRESS.length, payload.length);
    const perTurn = Math.ceil(READ_BYTES_PER_TURN / perRecord);
    assert.ok(perTurn < sent / 3, `the budget (${READ_BYTES_PER_TURN} bytes) is less than a cell, so this test can tell`);

    mailbox.start(); // reads at once, one turn's worth
    const turns = [got.length];
    for (let before = got.length, quiet = 0; quiet < 3; ) {
      await turnEnd();
      turns.push(got.length - before);
      quiet = got.length === before ? quiet + 1 : 0;
      before = got.length;
    }
    for (const [i, n] of turns.entries()) assert.ok(n <= perTurn, `turn ${i} read ${n} messages, more than the ${perTurn} of one budget`);
    assert.ok(turns[0]! > 0, 'the first turn read something');
    // The three committed cells are all read, in order, each message once (the open fourth holds the last one).
    assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
    assert.equal(got.length, sent - 1);
  } finally {
    mailbox.close();
  }
});
