import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReaderMark, WriterMark } from '../../src/slot/mark-devices.js';
import { RecordCursor, RecordKind, addressOf } from '../../src/slot/record.js';
import { ClaimRig } from '../helpers/claim-rig.js';
import { checkPayload } from '../helpers/payload.js';

test('claim 39: after reading what the proxy wrote, the process sets its process mark device to "not readable by the process"', async () => {
  const c = await ClaimRig.start();
  try {
    const { down, reader, layout } = c.slot;
    const cell = reader.currentCell;
    assert.equal(down.readerMark(cell), ReaderMark.NOT_READABLE);
    assert.equal(reader.sleep(), true);
    const ring = c.nextRing();
    await c.second.call('send', { to: 'first', count: 1, size: 100 });
    await ring;
    assert.equal(down.readerMark(cell), ReaderMark.READABLE, 'second state: readable by the process');
    assert.equal(down.writerMark(cell), WriterMark.NOT_WRITABLE, 'the proxy may not write it meanwhile');
    const data = reader.take()!;
    assert.equal(down.readerMark(cell), ReaderMark.NOT_READABLE, 'first state after reading');
    assert.equal(down.writerMark(cell), WriterMark.WRITABLE);
    const cur = new RecordCursor(layout.maxMessageBytes);
    cur.reset(data, reader.records);
    assert.ok(cur.next());
    assert.equal(cur.kind, RecordKind.SEND);
    assert.match(addressOf(cur), /^second~\d+\.\d+@test$/);
    assert.equal(checkPayload(data.subarray(cur.payloadStart, cur.payloadStart + cur.payloadBytes), 0), null);
    assert.equal(cur.next(), false);
  } finally {
    await c.close();
  }
});
