/**
 * An endpoint's status(), flush() and drain() (issue 12), against a real proxy process: the
 * status iterator's bound, detaching and end; flush() resolving once the proxy has read
 * everything sent before it; drain() letting a slow handler finish and its answer arrive,
 * ending the iterator after what was already received, and refusing what comes meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from '../src/client/connect.js';
import type { Endpoint } from '../src/client/endpoint.js';
import type { StatusEvent } from '../src/client/status.js';
import { CLIENT_DEFAULTS } from '../src/contract/defaults.js';
import { Rig } from './helpers/rig.js';

let rig: Rig;
const endpoints: Endpoint[] = [];
before(async () => {
  rig = await Rig.start(['--cells', '2', '--cell-bytes', '4096']);
});
after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
  await rig.close();
});

async function open(name: string): Promise<Endpoint> {
  const ep = await connect({ name, socket: rig.socket });
  endpoints.push(ep);
  return ep;
}

test('a status() iterator nobody reads keeps the newest events and counts the rest; return() detaches it; it ends with the endpoint', async () => {
  const ep = await open('watched');
  const bound = CLIENT_DEFAULTS.statusEvents;
  const unread = ep.status();
  const early = ep.status();
  for (let i = 0; i < bound + 500; i++) ep.pushStatus({ type: 'slow', subject: 's', dropped: i });
  assert.equal(unread.skipped, 500);
  const first = await unread.next();
  assert.deepEqual(first.value, { type: 'slow', subject: 's', dropped: 500 }, 'the oldest kept is the first not skipped');
  // Each iterator has its own queue, from its own start.
  const late = ep.status();
  ep.pushStatus({ type: 'slow', subject: 'late', dropped: 1 });
  assert.deepEqual((await late.next()).value, { type: 'slow', subject: 'late', dropped: 1 });
  // Detached: holds nothing, sees nothing more.
  assert.deepEqual(await early.return!(), { value: undefined, done: true });
  ep.pushStatus({ type: 'slow', subject: 'after', dropped: 2 });
  assert.deepEqual(await early.next(), { value: undefined, done: true });
  assert.equal((ep as unknown as { feed: { size: number } }).feed.size, 2, 'the endpoint no longer feeds it');
  // An undeliverable send shows here as well as in the 'undeliverable' event.
  const undeliverable = new Promise((r) => ep.once('undeliverable', r));
  await ep.send('nobody-here', 'x');
  await undeliverable;
  let u: StatusEvent | undefined;
  for await (const e of late) {
    if (e.type !== 'undeliverable') continue;
    u = e;
    break;
  }
  assert.equal(u?.type === 'undeliverable' && u.to, 'nobody-here');
  assert.equal(u?.type === 'undeliverable' && u.error.code, 'SLOTLINK_ERR_NO_ROUTE');
  // Closed: the held events can still be taken, then done; a new iterator is done at once.
  await ep.close();
  assert.equal((await unread.next()).done, false);
  assert.deepEqual(await ep.status().next(), { value: undefined, done: true });
});

test('flush() resolves once the proxy has read everything sent before it', { timeout: 30_000 }, async () => {
  const sink = await open('flush-sink');
  const reading = (async () => {
    let n = 0;
    for await (const _ of sink) if (++n === 2000) return n;
    return n;
  })();
  const ep = await open('flusher');
  let resolved = 0;
  // Far more than the slot holds (2 × 4 KiB): most wait in the client's queue.
  for (let i = 0; i < 2000; i++) void ep.send('flush-sink', Buffer.alloc(1000, i)).then(() => resolved++);
  assert.ok(ep.stats().queuedBytes > 1_000_000);
  await ep.flush();
  assert.equal(resolved, 2000, 'every send is in the slot');
  const s = (await rig.status()).slots.find((x) => x.name === 'flusher')!;
  assert.equal(s.messagesIn, 2001, 'the proxy has read them all, and the flush');
  assert.equal(await reading, 2000);
});

test('drain(): the iterator ends after what was received, a slow handler finishes and its answer arrives, a request that comes meanwhile fails with RECEIVER_GONE rather than at its timeout, then it closes', { timeout: 30_000 }, async () => {
  const ep = await open('drainer');
  let release!: () => void;
  const handling = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const handlerStarted = new Promise<void>((r) => (started = r));
  ep.respond(async (req) => {
    started();
    await handling;
    return `done: ${req.text()}`;
  });
  const asker = await rig.worker('asker', { consume: false });
  // Three messages, then a request: in the order sent.
  await asker.call('send', { to: 'drainer', count: 3, size: 64 });
  const answer = asker.call('tryRequest', { to: 'drainer', data: 'slow job', timeout: 20_000 });
  await handlerStarted;

  let drained = false;
  const draining = ep.drain().then(() => (drained = true));
  // What had arrived is still there; then the iterator ends.
  const taken: number[] = [];
  for await (const m of ep) taken.push(m.data.readUInt32LE(0));
  assert.deepEqual(taken, [0, 1, 2]);
  // A request that comes while it drains is not handled: it fails at its requester, not at its timeout.
  const late = asker.call('tryRequest', { to: 'drainer', data: 'too late', timeout: 20_000 });
  // The proxy has read it (3 messages, 2 requests) before the handler may finish.
  while ((await rig.status()).slots.find((x) => x.name === 'asker')!.messagesIn < 5) await new Promise((r) => setTimeout(r, 5));
  await ep.send('asker', 'sending goes on while it drains');
  assert.equal(drained, false, 'drain() waits for the handler');
  release();
  await draining;
  assert.deepEqual(await answer, { reply: 'done: slow job' });
  assert.equal(await ep.closed, null);
  assert.equal((await late).code, 'SLOTLINK_ERR_RECEIVER_GONE');
  await assert.rejects(ep.send('asker', 'x'), { code: 'SLOTLINK_ERR_CLOSED' });
  await assert.rejects(ep.flush(), { code: 'SLOTLINK_ERR_CLOSED' });
});
