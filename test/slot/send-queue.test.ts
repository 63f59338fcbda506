/**
 * The proxy's queue in front of a process's slot (src/slot/send-queue.ts), as a unit: many
 * sources take turns of QUANTUM_BYTES, each in its own order; a message already begun is
 * finished first; a process's own queue stays one FIFO. (What the proxy does with it end to
 * end is in the requests-under-load benchmark.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUANTUM_BYTES, SendQueue, turnBytes, type Pending } from '../../src/slot/send-queue.js';
import { RecordKind } from '../../src/slot/record.js';

const A = Buffer.from('bulk~1.1@alpha');
const B = Buffer.from('asker~2.1@alpha');

function message(address: Uint8Array, bytes: number, id: number): Pending {
  return { kind: RecordKind.SEND, address, requestId: id, source: new Uint8Array(bytes), start: 0, end: bytes, offset: 0, done: null, abandoned: null, key: address, cancelled: false, settled: false };
}

/** Takes everything in the order the queue gives it. */
function drain(q: SendQueue): Pending[] {
  const out: Pending[] = [];
  for (let p = q.peek(); p; p = q.peek()) {
    out.push(p);
    q.shift();
  }
  return out;
}

test('a message from another source waits behind at most one quantum of a bulk source', () => {
  const q = new SendQueue(true);
  for (let i = 0; i < 200; i++) q.push(message(A, 1000, i));
  q.push(message(B, 64, 1000));
  const order = drain(q);
  const at = order.findIndex((p) => p.address === B);
  const ahead = order.slice(0, at).reduce((n, p) => n + p.end, 0);
  assert.ok(ahead <= QUANTUM_BYTES, `${ahead} bulk bytes went in ahead of it`);
  assert.deepEqual(order.filter((p) => p.address === A).map((p) => p.requestId), [...Array(200).keys()], 'the bulk source keeps its order');
});

test('sources take turns: while both wait, each gets about the same share of the slot', () => {
  const q = new SendQueue(true);
  for (let i = 0; i < 1000; i++) q.push(message(A, 1000, i));
  for (let i = 0; i < 1000; i++) q.push(message(B, 100, i));
  const first = drain(q).slice(0, 1100);
  const share = (addr: Uint8Array) => first.filter((p) => p.address === addr).reduce((n, p) => n + turnBytes(p), 0);
  const ratio = share(A) / share(B);
  assert.ok(ratio > 0.9 && ratio < 1.1, `bulk ${share(A)} B vs small ${share(B)} B while both waited`);
});

test('a message larger than a quantum goes in once its source has saved enough turns', () => {
  const q = new SendQueue(true);
  q.push(message(A, 5 * QUANTUM_BYTES, 1));
  for (let i = 0; i < 400; i++) q.push(message(B, 100, i));
  const order = drain(q);
  const at = order.findIndex((p) => p.address === A);
  const before = order.slice(0, at).reduce((n, p) => n + turnBytes(p), 0);
  // Five turns' saving: the other source had five (or six) turns meanwhile, not all 400 messages.
  assert.ok(before >= 5 * QUANTUM_BYTES - turnBytes(order[0]!) && before <= 6 * QUANTUM_BYTES, `${before} B of the other source went in first`);
  assert.equal(order.length, 401);
});

test('a message already begun (split across cells) is finished before another source goes', () => {
  const q = new SendQueue(true);
  q.push(message(A, 3 * QUANTUM_BYTES, 1));
  const first = q.peek()!;
  assert.equal(first.address, A);
  first.offset = 1; // part of it is in the slot; the rest waits for room
  q.push(message(B, 10, 2));
  q.push(message(B, 10, 3));
  assert.equal(q.peek(), first, 'the message begun goes on');
  q.shift();
  assert.equal(q.peek()!.address, B);
});

test("a process's own queue is one FIFO, whatever the addresses", () => {
  const q = new SendQueue(false);
  for (let i = 0; i < 50; i++) q.push(message(i % 2 ? A : B, 1000, i));
  assert.deepEqual(drain(q).map((p) => p.requestId), [...Array(50).keys()]);
});

test('takeAll hands back everything, each source in order', () => {
  const q = new SendQueue(true);
  for (let i = 0; i < 10; i++) q.push(message(i % 2 ? A : B, 1000, i));
  q.peek();
  const all = q.takeAll();
  assert.equal(all.length, 10);
  assert.deepEqual(all.filter((p) => p.address === A).map((p) => p.requestId), [1, 3, 5, 7, 9]);
  assert.equal(q.empty, true);
});
