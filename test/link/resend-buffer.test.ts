/** Unit: the resend buffer packs runs of messages into DATA frames and resumes at any frame. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder } from '../../src/link/frame-decoder.js';
import { ResendBuffer } from '../../src/link/resend-buffer.js';
import { RecordKind } from '../../src/slot/record.js';

/** Decodes buffers into "seq.index src>dst payload" lines. */
function decode(bufs: Buffer[]): string[] {
  const seen: string[] = [];
  const d = new FrameDecoder(1 << 24, {
    data: (f) => {
      for (let i = 0; f.next(); i++) seen.push(`${f.seq}.${i}@${f.offset} ${f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes)}>${f.buffer.latin1Slice(f.addressStart, f.addressStart + f.addressBytes)} ${f.buffer.latin1Slice(f.payloadStart, f.payloadStart + f.payloadBytes)}`);
    },
    ack: () => assert.fail('no ACK expected'),
    credit: () => assert.fail('no CREDIT expected'),
    wanted: () => assert.fail('no WANTED expected'),
    json: () => assert.fail('no JSON frame expected'),
    ping: () => assert.fail('no PING expected'),
  });
  for (const b of bufs) d.push(b);
  return seen;
}

const a = Buffer.from('a~1.1@x');
const b = Buffer.from('b~2.1@x');
const sink = Buffer.from('sink');
const other = Buffer.from('other');

test('messages from one source to one destination share a frame; any change starts the next', () => {
  const r = new ResendBuffer();
  let seq = 0;
  const put = (src: Buffer, dst: Buffer, text: string) => {
    if (r.append(src, dst, RecordKind.SEND, 0, Buffer.from(text), 0, text.length, seq + 1, 100 + seq)) seq++;
  };
  put(a, sink, 'm1');
  put(a, sink, 'm2');
  put(a, other, 'm3');
  put(b, other, 'm4');
  // The same bytes in another array are another address as far as runs go: identity is the key.
  put(Buffer.from(b), other, 'm5');
  assert.equal(seq, 4);
  assert.equal(r.frames, 4);
  // Each frame carries the credit offset given when it started.
  assert.deepEqual(decode(r.take()), ['1.0@100 a~1.1@x>sink m1', '1.1@100 a~1.1@x>sink m2', '2.0@101 a~1.1@x>other m3', '3.0@102 b~2.1@x>other m4', '4.0@103 b~2.1@x>other m5']);
  // take() ends the run: the next message starts frame 5 even to the same destination.
  put(b, other, 'm6');
  assert.equal(seq, 5);
  assert.deepEqual(decode(r.take()), ['5.0@104 b~2.1@x>other m6']);
});

test('a run stops at 64 KiB, and acknowledged frames are dropped whole', () => {
  const r = new ResendBuffer();
  const big = Buffer.alloc(20_000, 120);
  let seq = 0;
  for (let i = 0; i < 7; i++) if (r.append(a, sink, RecordKind.SEND, i, big, 0, big.length, seq + 1, 0)) seq++;
  // Three 20 kB messages fit a 64 KiB run, so seven make three frames.
  assert.equal(seq, 3);
  const all = decode(r.take()).map((l) => l.split('@')[0]);
  assert.deepEqual(all, ['1.0', '1.1', '1.2', '2.0', '2.1', '2.2', '3.0']);
  const before = r.bytes;
  r.ack(2);
  assert.equal(r.frames, 1);
  assert.ok(r.bytes < before / 5, `frames 1 and 2 released (${r.bytes} of ${before} bytes left)`);
  assert.deepEqual(decode(r.after(2)).map((l) => l.split('@')[0]), ['3.0']);
});

test('after(seq) resends from the first frame not delivered, written or not', () => {
  const r = new ResendBuffer();
  let seq = 0;
  const put = (dst: Buffer, text: string) => {
    if (r.append(a, dst, RecordKind.REQUEST, 7, Buffer.from(text), 0, text.length, seq + 1, 0)) seq++;
  };
  put(sink, 'x1');
  put(other, 'x2');
  r.take();
  put(sink, 'x3');
  put(sink, 'x4');
  assert.deepEqual(decode(r.after(1)), ['2.0@0 a~1.1@x>other x2', '3.0@0 a~1.1@x>sink x3', '3.1@0 a~1.1@x>sink x4']);
  assert.equal(r.frames, 2, 'frames 2 and 3 are held');
});
