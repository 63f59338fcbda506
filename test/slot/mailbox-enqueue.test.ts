/**
 * Unit (src/slot/mailbox.ts): enqueue() returns the queued message only while it waits; a
 * message it could write at once (its `done` has run) or that met a closed mailbox (its
 * `abandoned` has run) comes back as null, so a caller never counts as waiting what is
 * already settled. The slot is a real memfd; nobody reads it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { native } from '../../src/native/binding.js';
import { DEFAULT_GEOMETRY } from '../../src/slot/layout.js';
import { Mailbox } from '../../src/slot/mailbox.js';
import { RecordKind } from '../../src/slot/record.js';
import { Slot } from '../../src/slot/slot.js';

const ADDRESS = Buffer.from('worker~1.1@alpha', 'latin1');
const PAYLOAD = Buffer.alloc(4096, 7);

test('enqueue() gives back the message while it waits, and null once it is settled', () => {
  const { slot, memfd } = Slot.create(1, 1, DEFAULT_GEOMETRY);
  native.close(memfd);
  const mailbox = new Mailbox(slot, { onMessage: () => {}, onFailure: (err) => assert.fail(err) });
  const settled: string[] = [];
  try {
    assert.equal(mailbox.enqueue(RecordKind.SEND, ADDRESS, 0, PAYLOAD, () => settled.push('written')), null, 'written at once');
    assert.deepEqual(settled, ['written']);

    while (mailbox.trySend(RecordKind.SEND, ADDRESS, 0, PAYLOAD)); // the ring fills: nobody reads
    const waiting = mailbox.enqueue(RecordKind.SEND, ADDRESS, 0, PAYLOAD, () => settled.push('late'), 0, PAYLOAD.length, () => settled.push('abandoned'));
    assert.ok(waiting, 'queued behind a full ring');
    assert.equal(waiting.settled, false);

    mailbox.close();
    assert.equal(waiting.settled, true);
    assert.deepEqual(settled, ['written', 'abandoned']);
    assert.equal(mailbox.enqueue(RecordKind.SEND, ADDRESS, 0, PAYLOAD, null, 0, PAYLOAD.length, () => settled.push('closed')), null, 'a closed mailbox keeps nothing');
    assert.deepEqual(settled, ['written', 'abandoned', 'closed']);
  } finally {
    mailbox.close();
  }
});
