/** Unit: the record decoder checks every field before use and names what is wrong. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressCache } from '../src/slot/address-cache.js';
import { RecordCursor, RecordFlag, RecordHeader, RecordKind, WHOLE, addressOf, recordBytes, writeRecord } from '../src/slot/record.js';

function cell(...records: Array<{ kind?: number; flags?: number; address?: string; payload?: Buffer; messageBytes?: number; requestId?: number }>): Buffer {
  const buf = Buffer.alloc(4096);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let at = 0;
  for (const r of records) {
    const payload = r.payload ?? Buffer.from('hi');
    const address = Buffer.from(r.address ?? 'dest');
    const kind = (r.kind ?? RecordKind.SEND) as RecordKind;
    at += writeRecord(buf, view, at, kind, r.flags ?? WHOLE, address, r.requestId ?? (kind === RecordKind.SEND ? 0 : 7), payload, 0, payload.length, r.messageBytes ?? payload.length);
  }
  return buf.subarray(0, at);
}

test('records round-trip: kind, flags, address, request id and payload', () => {
  const data = cell({ address: 'svc@node', payload: Buffer.from('hello') }, { kind: RecordKind.REQUEST, payload: Buffer.alloc(0) });
  const c = new RecordCursor(1 << 20);
  c.reset(data, 2);
  assert.ok(c.next());
  assert.equal(addressOf(c), 'svc@node');
  assert.equal(c.requestId, 0);
  assert.equal(data.subarray(c.payloadStart, c.payloadStart + c.payloadBytes).toString(), 'hello');
  assert.equal(recordBytes(8, 5), 40);
  assert.ok(c.next());
  assert.equal(c.kind, RecordKind.REQUEST);
  assert.equal(c.requestId, 7);
  assert.equal(c.payloadBytes, 0);
  assert.equal(c.next(), false);
});

const bad: Array<[string, () => [Buffer, number], RegExp]> = [
  ['more records claimed than present', () => [cell({}), 2], /header needs 24 bytes, only 0 remain/],
  ['fewer records claimed than present', () => [cell({}, {}), 1], /cell says 1 records but 32 bytes remain/],
  ['unknown flag bits', () => [cell({ flags: 0x80 | WHOLE }), 1], /flags 0x83 has unknown bits/],
  ['payload larger than the message', () => [cell({ flags: RecordFlag.FIRST, messageBytes: 1 }), 1], /payloadBytes 2 exceeds messageBytes 1/],
  ['whole message with a different size', () => [cell({ messageBytes: 9 }), 1], /whole message has payloadBytes 2 but messageBytes 9/],
  ['continuation with an address', () => [cell({ flags: RecordFlag.LAST }), 1], /continuation fragment carries an address/],
  ['message over the maximum', () => [cell({ flags: RecordFlag.FIRST, messageBytes: 2_000_000 }), 1], /messageBytes 2000000 exceeds the maximum 1048576/],
  ['a SEND with a requestId', () => [cell({ requestId: 3 }), 1], /requestId 3 on a SEND/],
  ['a REPLY without one', () => [cell({ kind: RecordKind.REPLY, requestId: 0 }), 1], /requestId 0 on a REPLY/],
  ['reserved bytes set', () => {
    const d = cell({});
    d.writeUInt32LE(9, RecordHeader.RESERVED2);
    return [d, 1];
  }, /reserved bytes 7 and 20\.\.23 hold 0 and 9, must be zero/],
  ['recordBytes inconsistent', () => {
    const d = cell({});
    d.writeUInt32LE(16, RecordHeader.RECORD_BYTES);
    return [d, 1];
  }, /recordBytes 16 does not match addressBytes 4 \+ payloadBytes 2/],
];

for (const [what, make, message] of bad) {
  test(`record decoder refuses: ${what}`, () => {
    const [data, count] = make();
    const c = new RecordCursor(1 << 20);
    c.reset(data, count);
    assert.throws(() => {
      while (c.next());
    }, { code: 'SLOTLINK_ERR_BAD_RECORD', message });
  });
}

test('address cache finds entries by bytes, tells apart equal hashes by content, and stays bounded', () => {
  const cache = new AddressCache<number>(3);
  const bytes = (s: string) => Buffer.from(`xx${s}yy`);
  cache.set(bytes('alpha'), 2, 5, 1);
  cache.set(bytes('beta'), 2, 4, 2);
  assert.equal(cache.get(bytes('alpha'), 2, 5), 1);
  assert.equal(cache.get(bytes('beta'), 2, 4), 2);
  assert.equal(cache.get(bytes('alphb'), 2, 5), undefined);
  cache.set(bytes('gamma'), 2, 5, 3);
  cache.set(bytes('delta'), 2, 5, 4); // over the bound: starts afresh
  assert.equal(cache.get(bytes('alpha'), 2, 5), undefined);
  assert.equal(cache.get(bytes('delta'), 2, 5), 4);
});
