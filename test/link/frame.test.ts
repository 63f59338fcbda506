/** Unit: the link frame decoder checks every length before use and names what is wrong. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATA_MESSAGE_HEADER, LINK_PROTOCOL_VERSION, LinkOp, dataHeaderBytes, encodeAck, encodeCredit, encodeJson, encodePing, writeDataHeader, writeDataMessage } from '../../src/link/frame.js';
import { FrameDecoder, type FrameHandler } from '../../src/link/frame-decoder.js';
import { RecordKind } from '../../src/slot/record.js';

function handlerOf(seen: string[]): FrameHandler {
  return {
    data: (f) => {
      for (let i = 0; f.next(); i++) seen.push(`data ${f.seq}.${i} ${f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes)}>${f.buffer.latin1Slice(f.addressStart, f.addressStart + f.addressBytes)} ${f.buffer.toString('utf8', f.payloadStart, f.payloadStart + f.payloadBytes)}`);
    },
    ack: (s) => void seen.push(`ack ${s}`),
    credit: (k, l) => void seen.push(`credit ${k.toString()} ${l}`),
    wanted: (k, l) => void seen.push(`wanted ${k.toString()} ${l}`),
    json: (op, b) => void seen.push(`json ${op} ${JSON.stringify(b)}`),
    ping: (op, t) => void seen.push(`ping ${op} ${t}`),
  };
}

function collect(max = 1 << 20) {
  const seen: string[] = [];
  return { d: new FrameDecoder(max, handlerOf(seen)), seen };
}

/** A DATA frame from a@x to sink carrying `payloads` (a run), each a SEND with requestId = its index. */
function data(seq: number, ...payloads: string[]): Buffer {
  const ps = payloads.map((p) => Buffer.from(p));
  const out = Buffer.alloc(dataHeaderBytes(3, 4) + ps.reduce((n, p) => n + DATA_MESSAGE_HEADER + p.length, 0));
  let at = writeDataHeader(out, 0, seq, 3 * seq, Buffer.from('a@x'), Buffer.from('sink'));
  ps.forEach((p, i) => (at += writeDataMessage(out, 0, at, RecordKind.SEND, i, p, 0, p.length)));
  return out;
}

const DIRECTORY = { incarnation: '0123456789abcdef', version: 3, names: [{ name: 'svc', group: true, members: 2 }], subjects: ['prices.>'] };

test('frames round-trip, even split at every byte', () => {
  const stream = Buffer.concat([data(2 ** 40 + 7, 'hello'), data(2 ** 40 + 8, 'one', '', 'three'), encodeAck(99), encodeCredit(Buffer.from('sink'), 2 ** 33), encodePing(LinkOp.PING, 1.5), encodeJson(LinkOp.DIRECTORY, DIRECTORY)]);
  const whole = collect();
  whole.d.push(stream);
  assert.deepEqual(whole.seen, [`data ${2 ** 40 + 7}.0 a@x>sink hello`, `data ${2 ** 40 + 8}.0 a@x>sink one`, `data ${2 ** 40 + 8}.1 a@x>sink `, `data ${2 ** 40 + 8}.2 a@x>sink three`, 'ack 99', `credit sink ${2 ** 33}`, `ping ${LinkOp.PING} 1.5`, `json ${LinkOp.DIRECTORY} ${JSON.stringify(DIRECTORY)}`]);
  const bytewise = collect();
  for (let i = 0; i < stream.length; i++) bytewise.d.push(stream.subarray(i, i + 1));
  assert.deepEqual(bytewise.seen, whole.seen, 'one byte per read');
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
  ['a DATA frame whose addresses overrun it', (() => { const f = data(1, 'x'); f[5] = 200; return f; })(), /DATA frame: srcBytes 200 \+ dstBytes 4 run past/],
  ['a DATA frame with an unknown kind', (() => { const f = data(1, 'x'); f[dataHeaderBytes(3, 4)] = 9; return f; })(), /DATA frame: message 0: kind 9 is not a message kind/],
  ['a DATA frame with no message', data(1), /DATA frame: carries no message/],
  ['a DATA message that runs past its frame', (() => { const f = data(1, 'ok', 'x'); f.writeUInt32LE(50, dataHeaderBytes(3, 4) + DATA_MESSAGE_HEADER + 2 + 5); return f; })(), /DATA frame: message 1: payloadBytes 50 runs past the frame's end/],
  ['a DATA message cut inside its header', (() => { const f = data(1, 'ok'); const g = Buffer.concat([f, Buffer.from([1, 0, 0])]); g.writeUInt32LE(g.length - 4, 0); return g; })(), /DATA frame: message 1 at byte \d+: 3 bytes left/],
  ['a HELLO that is not JSON', Buffer.concat([Buffer.from([4, 0, 0, 0, LinkOp.HELLO]), Buffer.from('{{{')]), /HELLO frame: body is not valid JSON/],
];

for (const [what, bytes, message] of bad) {
  test(`link decoder refuses ${what}`, () => {
    assert.throws(() => collect().d.push(bytes), { code: 'SLOTLINK_ERR_LINK_PROTOCOL', message });
  });
}

test('a DATA frame with a bad message delivers none of its messages', () => {
  const f = data(1, 'fine', 'also fine', 'x');
  f[f.length - 1 - 9] = 7; // the third message's kind
  const c = collect();
  assert.throws(() => c.d.push(f), { code: 'SLOTLINK_ERR_LINK_PROTOCOL', message: /message 2: kind 7/ });
  assert.deepEqual(c.seen, []);
});

test('a DATA frame is handed over whole, with its credit offset, message count and payload total; WANTED round-trips', () => {
  const c = collect();
  const seen: Array<[number, number, number]> = [];
  const d = new FrameDecoder(1 << 20, { ...handlerOf(c.seen), data: (f) => void seen.push([f.offset, f.messages, f.framePayloadBytes]) });
  d.push(Buffer.concat([data(5, 'a', 'bb', ''), encodeCredit(Buffer.from('sink'), 2 ** 40 + 3, LinkOp.WANTED)]));
  assert.deepEqual(seen, [[15, 3, 3]], 'the sink is handed the whole frame once');
  assert.deepEqual(c.seen, [`wanted sink ${2 ** 40 + 3}`]);
});

// Regression (hardening #12): a DIRECTORY with a null entry was refused as "TypeError: Cannot read properties of null".
test('HELLO and DIRECTORY bodies are checked field by field; a refusal names the frame, field and value', () => {
  const hello = { version: LINK_PROTOCOL_VERSION, node: 'alpha', incarnation: '0123456789abcdef', peerIncarnation: null, delivered: 0, creditWindow: 1024, maxUnackedBytes: 1 << 20, maxMessageBytes: 4096 };
  const cases: Array<[number, unknown, RegExp]> = [
    [LinkOp.DIRECTORY, { ...DIRECTORY, names: [null] }, /^DIRECTORY frame: names\[0\] null is not an object$/],
    [LinkOp.DIRECTORY, { ...DIRECTORY, names: [{ name: '../x', group: false, members: 1 }] }, /^DIRECTORY frame: names\[0\]\.name "\.\.\/x" is not a valid name$/],
    [LinkOp.DIRECTORY, { ...DIRECTORY, names: [{ name: 'a', group: 'yes', members: 1 }] }, /^DIRECTORY frame: names\[0\]\.group "yes" is not true or false$/],
    [LinkOp.DIRECTORY, { ...DIRECTORY, names: [{ name: 'a', group: false, members: -1 }] }, /members -1 is not a positive count/],
    [LinkOp.DIRECTORY, { ...DIRECTORY, names: 'all' }, /^DIRECTORY frame: names "all" is not a list$/],
    [LinkOp.DIRECTORY, { ...DIRECTORY, subjects: undefined }, /^DIRECTORY frame: subjects undefined is not a list$/],
    [LinkOp.DIRECTORY, { ...DIRECTORY, subjects: ['a.>.b'] }, /^DIRECTORY frame: subjects\[0\] "a\.>\.b" is not a valid subscription pattern$/],
    [LinkOp.DIRECTORY, [1, 2], /^DIRECTORY frame: body is not a JSON object: \[1,2\]$/],
    [LinkOp.HELLO, { ...hello, delivered: -3 }, /^HELLO frame: delivered -3 is not a count$/],
    [LinkOp.HELLO, { ...hello, node: null }, /^HELLO frame: node null is not a string$/],
    [LinkOp.HELLO, { ...hello, incarnation: 'x' }, /^HELLO frame: incarnation "x" is not 16 hex digits$/],
    [LinkOp.HELLO, { ...hello, creditWindow: 0 }, /^HELLO frame: creditWindow 0 is not a positive whole number$/],
    [LinkOp.HELLO, { ...hello, maxUnackedBytes: 'lots' }, /^HELLO frame: maxUnackedBytes "lots" is not a positive whole number$/],
  ];
  for (const [op, body, message] of cases) {
    const { d, seen } = collect();
    assert.throws(() => d.push(encodeJson(op as typeof LinkOp.HELLO, body)), { code: 'SLOTLINK_ERR_LINK_PROTOCOL', message }, JSON.stringify(body));
    assert.deepEqual(seen, [], 'nothing reaches the handler');
  }
  // Another version is passed on, so the handshake can refuse it as a version mismatch.
  const { d, seen } = collect();
  d.push(encodeJson(LinkOp.HELLO, { version: 7 }));
  assert.equal(seen.length, 1);
});

/** A DATA frame from a@x to `dst` carrying one message of `kind` whose payload is `payload`. */
function one(dst: string, kind: number, payload: Buffer, requestId = 0): Buffer {
  const out = Buffer.alloc(dataHeaderBytes(3, dst.length) + DATA_MESSAGE_HEADER + payload.length);
  const at = writeDataHeader(out, 0, 1, 0, Buffer.from('a@x'), Buffer.from(dst));
  writeDataMessage(out, 0, at, kind as RecordKind, requestId, payload, 0, payload.length);
  return out;
}

function publication(subject: string, data: string): Buffer {
  return Buffer.concat([Buffer.from([subject.length]), Buffer.from(subject, 'latin1'), Buffer.from(data)]);
}

test('publications go to "~publish" only, each with a subject without wildcards; a refusal names the message and the value', () => {
  const { d, seen } = collect();
  d.push(one('~publish', RecordKind.PUBLISH, publication('prices.eu', 'x')));
  assert.equal(seen.length, 1, 'a well-formed publication is passed on');
  const cases: Array<[Buffer, RegExp]> = [
    [one('~publish', RecordKind.SEND, Buffer.from('x')), /^DATA frame: message 0: kind 1 to destination "~publish" \(PUBLISH goes to "~publish", and only PUBLISH does\)$/],
    [one('sink', RecordKind.PUBLISH, publication('a', 'x')), /^DATA frame: message 0: kind 5 to destination "sink"/],
    [one('~publish', RecordKind.PUBLISH, publication('prices.*', 'x')), /^DATA frame: message 0: subject "prices\.\*" is not a subject: byte 7 is "\*", a wildcard/],
    [one('~publish', RecordKind.PUBLISH, publication('a..b', 'x')), /^DATA frame: message 0: subject "a\.\.b" is not a subject: token at byte 2 is empty$/],
    [one('~publish', RecordKind.PUBLISH, Buffer.from([9, 0x61])), /^DATA frame: message 0: subjectBytes 9 runs past its payloadBytes 2$/],
    [one('~publish', RecordKind.PUBLISH, Buffer.alloc(0)), /^DATA frame: message 0: subjectBytes 0 runs past its payloadBytes 0$/],
    [one('~publish', RecordKind.PUBLISH, publication('a', 'x'), 7), /^DATA frame: message 0: requestId 7 on a PUBLISH, must be 0$/],
    [one('sink', 6, Buffer.from('x')), /^DATA frame: message 0: kind 6 is not a message kind$/],
  ];
  for (const [frame, message] of cases) {
    const c = collect();
    assert.throws(() => c.d.push(frame), { code: 'SLOTLINK_ERR_LINK_PROTOCOL', message });
    assert.deepEqual(c.seen, [], 'nothing reaches the handler');
  }
});
