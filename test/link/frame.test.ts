/** Unit: the link frame decoder checks every length before use and names what is wrong. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder, LinkOp, encodeAck, encodeCredit, encodeJson, encodePing, writeData, dataFrameBytes } from '../../src/link/frame.js';
import { RecordKind } from '../../src/slot/record.js';

function collect(max = 1 << 20) {
  const seen: string[] = [];
  const d = new FrameDecoder(max, {
    data: (f) => seen.push(`data ${f.seq} ${f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes)}>${f.buffer.latin1Slice(f.addressStart, f.addressStart + f.addressBytes)} ${f.buffer.toString('utf8', f.payloadStart, f.payloadStart + f.payloadBytes)}`),
    ack: (s) => seen.push(`ack ${s}`),
    credit: (k, l) => seen.push(`credit ${k.toString()} ${l}`),
    json: (op, b) => seen.push(`json ${op} ${JSON.stringify(b)}`),
    ping: (op, t) => seen.push(`ping ${op} ${t}`),
  });
  return { d, seen };
}

function data(seq: number, payload: string): Buffer {
  const p = Buffer.from(payload);
  const out = Buffer.alloc(dataFrameBytes(3, 4, p.length));
  writeData(out, 0, seq, RecordKind.SEND, 0, Buffer.from('a@x'), Buffer.from('sink'), p, 0, p.length);
  return out;
}

test('frames round-trip, even split at every byte', () => {
  const stream = Buffer.concat([data(2 ** 40 + 7, 'hello'), encodeAck(99), encodeCredit(Buffer.from('sink'), 2 ** 33), encodePing(LinkOp.PING, 1.5), encodeJson(LinkOp.DIRECTORY, { v: 1 })]);
  const whole = collect();
  whole.d.push(stream);
  assert.deepEqual(whole.seen, [`data ${2 ** 40 + 7} a@x>sink hello`, 'ack 99', `credit sink ${2 ** 33}`, `ping ${LinkOp.PING} 1.5`, `json ${LinkOp.DIRECTORY} {"v":1}`]);
  for (let cut = 1; cut < stream.length; cut++) {
    const split = collect();
    split.d.push(stream.subarray(0, cut));
    split.d.push(stream.subarray(cut));
    assert.deepEqual(split.seen, whole.seen, `split at ${cut}`);
  }
});

const bad: Array<[string, Buffer, RegExp]> = [
  ["a length over the limit", Buffer.from([0xff, 0xff, 0xff, 0x7f, 2]), /length 2147483647 is outside 1\.\.1048576/],
  ['a zero length', Buffer.from([0, 0, 0, 0, 2]), /length 0 is outside/],
  ['an unknown op', Buffer.from([1, 0, 0, 0, 42]), /unknown op 42/],
  ['an ACK of the wrong size', Buffer.from([3, 0, 0, 0, LinkOp.ACK, 0, 0]), /ACK frame: length 3, expected 9/],
  ['a DATA frame whose addresses overrun it', (() => { const f = data(1, 'x'); f[6] = 200; return f; })(), /DATA frame: srcBytes 200 \+ dstBytes 4 run past/],
  ['a DATA frame with an unknown kind', (() => { const f = data(1, 'x'); f[5] = 9; return f; })(), /DATA frame: kind 9 is not a message kind/],
  ['a HELLO that is not JSON', Buffer.concat([Buffer.from([4, 0, 0, 0, LinkOp.HELLO]), Buffer.from('{{{')]), /HELLO frame: body is not valid JSON/],
];

for (const [what, bytes, message] of bad) {
  test(`link decoder refuses ${what}`, () => {
    assert.throws(() => collect().d.push(bytes), { code: 'SLOTLINK_ERR_LINK_PROTOCOL', message });
  });
}
