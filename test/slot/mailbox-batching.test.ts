/**
 * Unit (src/slot/mailbox.ts): a mailbox commits what it writes at the end of the turn, so a
 * turn's messages share a cell; a request or answer that opens a cell is committed at once
 * (somebody waits on it), and one written after others this turn shares their cell. The
 * slot is a real memfd; the reading side is looked at through its mark device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turnEnd } from 'node:timers/promises';
import { native } from '../../src/native/binding.js';
import { DEFAULT_GEOMETRY } from '../../src/slot/layout.js';
import { Mailbox } from '../../src/slot/mailbox.js';
import { RecordKind } from '../../src/slot/record.js';
import { Slot } from '../../src/slot/slot.js';

const ADDRESS = Buffer.from('worker~1.1@alpha', 'latin1');
const PAYLOAD = Buffer.alloc(64, 7);

test('a request or answer that opens a cell is committed at once; other messages wait for the end of the turn', async () => {
  const { slot, memfd } = Slot.create(1, 1, DEFAULT_GEOMETRY);
  native.close(memfd);
  const mailbox = new Mailbox(slot, { onMessage: () => {}, onFailure: (err) => assert.fail(err) });
  const committed = (cell: number) => slot.down.isReadable(cell);
  try {
    let cell = slot.writer.currentCell;
    assert.ok(mailbox.trySend(RecordKind.SEND, ADDRESS, 0, PAYLOAD));
    assert.equal(committed(cell), false, 'a send waits for the end of the turn');
    await turnEnd();
    assert.equal(committed(cell), true);

    for (const kind of [RecordKind.REQUEST, RecordKind.REPLY, RecordKind.ERROR]) {
      cell = slot.writer.currentCell;
      assert.ok(mailbox.trySend(kind, ADDRESS, 9, PAYLOAD));
      assert.equal(committed(cell), true, `kind ${kind}, alone in its cell, is committed at once`);
    }

    cell = slot.writer.currentCell;
    assert.ok(mailbox.trySend(RecordKind.SEND, ADDRESS, 0, PAYLOAD));
    assert.ok(mailbox.trySend(RecordKind.REPLY, ADDRESS, 9, PAYLOAD));
    assert.equal(committed(cell), false, 'an answer written after a send this turn shares its cell');
    await turnEnd();
    assert.equal(committed(cell), true);
    assert.equal(slot.writer.cellsCommitted, 5);
  } finally {
    mailbox.close();
  }
});
