/** Message semantics through one proxy: sizes, requests, errors, groups. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect } from '../src/client/connect.js';
import type { Endpoint } from '../src/client/endpoint.js';
import { Rig } from './helpers/rig.js';

let rig: Rig;
let client: Endpoint;
before(async () => {
  rig = await Rig.start(['--cell-bytes', '4096', '--max-message-bytes', '8000000']);
  client = await connect({ name: 'client', socket: rig.socket });
});
after(async () => {
  await client.close();
  await rig.close();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a message larger than a cell is split and reassembled, byte for byte', async () => {
  const big = await connect({ name: 'big-receiver', socket: rig.socket });
  try {
    const sizes = [4095, 4096, 100_000, 7_999_999];
    const payloads = sizes.map((n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff)));
    const got = (async () => {
      const out: Buffer[] = [];
      for await (const m of big) {
        out.push(Buffer.from(m.data));
        if (out.length === payloads.length) return out;
      }
      return out;
    })();
    for (const p of payloads) await client.send('big-receiver', p);
    const received = await got;
    assert.deepEqual(received.map((b) => b.length), sizes);
    assert.deepEqual(received.map(sha), payloads.map(sha));
  } finally {
    await big.close();
  }
});

test('a message over the maximum is refused before it is sent', async () => {
  await assert.rejects(client.send('anyone', Buffer.alloc(8_000_001)), { code: 'SLOTLINK_ERR_MESSAGE_TOO_LARGE', message: /8000001 bytes exceeds the maximum of 8000000/ });
  await assert.rejects(client.request('anyone', Buffer.alloc(8_000_001)), { code: 'SLOTLINK_ERR_MESSAGE_TOO_LARGE' });
  assert.throws(() => client.trySend('anyone', Buffer.alloc(8_000_001)), { code: 'SLOTLINK_ERR_MESSAGE_TOO_LARGE' });
});

test('request gets its reply; empty and text payloads work', async () => {
  const server = await rig.worker('echo-server', { echo: true });
  assert.equal((await client.request('echo-server', 'hello')).toString(), 'hello');
  assert.equal((await client.request('echo-server', new Uint8Array(0))).length, 0);
  assert.equal((await client.request('echo-server@test', 'with node')).toString(), 'with node');
  await server.kill();
});

test('unknown name, unknown node and invalid address are clear errors to the caller', async () => {
  await assert.rejects(client.request('nobody', 'x'), { code: 'SLOTLINK_ERR_NO_ROUTE', message: /no process is registered as "nobody" on node "test"/ });
  await assert.rejects(client.request('svc@elsewhere', 'x'), { code: 'SLOTLINK_ERR_NO_ROUTE', message: /node "elsewhere" is not a peer of this proxy/ });
  await assert.rejects(client.request('bad name', 'x'), { code: 'SLOTLINK_ERR_INVALID_ADDRESS' });
  const undeliverable = new Promise<{ to: string; error: { code: string } }>((r) => client.once('undeliverable', r));
  await client.send('ghost', 'boo');
  const u = await undeliverable;
  assert.equal(u.to, 'ghost');
  assert.equal(u.error.code, 'SLOTLINK_ERR_NO_ROUTE');
});

test('the proxy itself answers requests to "~proxy" with their payload, and refuses sends', async () => {
  assert.equal((await client.request('~proxy', 'are you there')).toString(), 'are you there');
  const big = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i & 0xff));
  assert.equal(sha(await client.request('~proxy', big)), sha(big));
  const undeliverable = new Promise<{ to: string; error: { code: string; message: string } }>((r) => client.once('undeliverable', r));
  await client.send('~proxy', 'not a request');
  const u = await undeliverable;
  assert.equal(u.error.code, 'SLOTLINK_ERR_NO_ROUTE');
  assert.match(u.error.message, /answers requests only/);
  assert.throws(() => client.trySend('~proxy@test', 'x'), { code: 'SLOTLINK_ERR_INVALID_ADDRESS' });
});

test('a request whose receiver dies before answering fails at once with RECEIVER_GONE, not at its timeout', { timeout: 60_000 }, async () => {
  const silent = await rig.worker('silent-server'); // reads requests, never answers
  const asked = client.request('silent-server', 'will you answer?', { timeout: 30_000 });
  const outcome = asked.then(() => 'answered', (err: { code: string; message: string }) => err);
  assert.equal((await silent.call('collect', { count: 1 })).received, 1, 'the request reached the process');
  await silent.kill();
  const err = (await outcome) as { code: string; message: string };
  assert.equal(err.code, 'SLOTLINK_ERR_RECEIVER_GONE', `rejected with ${err.code}: ${err.message}`);
  assert.match(err.message, /"silent-server~\d+\.\d+@test" went away before answering this request/);
  // A request it answered is not failed afterwards: the echo server settles what it answers.
  const echo = await rig.worker('echo-then-die', { echo: true });
  assert.equal((await client.request('echo-then-die', 'x')).toString(), 'x');
  await echo.kill();
});

test('request timeout and AbortSignal reject with their own codes', async () => {
  const silent = await connect({ name: 'silent', socket: rig.socket });
  try {
    await assert.rejects(client.request('silent', 'hello?', { timeout: 50 }), { code: 'SLOTLINK_ERR_REQUEST_TIMEOUT', message: /no reply within 50 ms/ });
    const ac = new AbortController();
    const p = client.request('silent', 'hello?', { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, { code: 'SLOTLINK_ERR_ABORTED' });
    await assert.rejects(client.request('silent', 'x', { signal: AbortSignal.abort() }), { code: 'SLOTLINK_ERR_ABORTED' });
    assert.equal(client.stats().pendingRequests, 0, 'nothing left pending');
  } finally {
    await silent.close();
  }
});

test('a responder that throws answers with an error the requester sees', async () => {
  const failing = await connect({ name: 'failing', socket: rig.socket });
  failing.respond((m) => {
    if (m.text() === 'sync') throw new Error('refused synchronously');
    return Promise.reject(new Error('refused later'));
  });
  try {
    await assert.rejects(client.request('failing', 'sync'), { code: 'SLOTLINK_ERR_REMOTE', message: 'refused synchronously' });
    await assert.rejects(client.request('failing', 'async'), { code: 'SLOTLINK_ERR_REMOTE', message: 'refused later' });
  } finally {
    await failing.close();
  }
});

test('requests to a group are balanced over its members, and replies reach the asker', async () => {
  const members = await Promise.all([0, 1, 2].map(async (i) => {
    const ep = await connect({ name: 'pool', group: true, socket: rig.socket });
    ep.respond(() => `member-${i}`);
    return ep;
  }));
  try {
    const replies = [];
    for (let i = 0; i < 30; i++) replies.push((await client.request('pool', 'who?')).toString());
    const counts = replies.reduce<Record<string, number>>((a, r) => ((a[r] = (a[r] ?? 0) + 1), a), {});
    assert.deepEqual(counts, { 'member-0': 10, 'member-1': 10, 'member-2': 10 });
  } finally {
    await Promise.all(members.map((m) => m.close()));
  }
});

test('a closed endpoint rejects new work with SLOTLINK_ERR_CLOSED and ends its iterator', async () => {
  const ep = await connect({ name: 'short-lived', socket: rig.socket });
  const iter = ep[Symbol.asyncIterator]();
  const next = iter.next();
  await ep.close();
  assert.deepEqual(await next, { value: undefined, done: true });
  await assert.rejects(ep.send('client', 'x'), { code: 'SLOTLINK_ERR_CLOSED' });
  await assert.rejects(ep.request('client', 'x'), { code: 'SLOTLINK_ERR_CLOSED' });
});

test('trySend of a message larger than a cell: the buffer may be reused at once', async () => {
  const rx = await connect({ name: 'reuse-receiver', socket: rig.socket });
  try {
    const size = 50_000; // about 12 cells of 4 KiB
    const buf = Buffer.alloc(size, 1);
    const got = (async () => {
      for await (const m of rx) return Buffer.from(m.data);
      return null;
    })();
    while (!client.trySend('reuse-receiver', buf)) await client.writable();
    buf.fill(2); // the caller's buffer changes right after trySend accepted it
    const m = (await got)!;
    assert.equal(m.length, size);
    assert.ok(m.every((b) => b === 1), 'the message is what was sent, not what the buffer became');
  } finally {
    await rx.close();
  }
});

test('requests obey maxPendingBytes like sends: past it they are refused, not queued without bound', { timeout: 20_000 }, async () => {
  const hoarder = await connect({ name: 'hoarder', socket: rig.socket, maxInboxBytes: 4096 });
  const asker = await connect({ name: 'asker', socket: rig.socket, maxPendingBytes: 50_000 });
  try {
    // Fired in one go: the asker's slot (8 × 4 KiB) fills at once, then its queue.
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => asker.request('hoarder', Buffer.alloc(10_000), { timeout: 0 })).map((p) => Promise.race([p, new Promise((r) => setTimeout(r, 200, 'pending'))])));
    const refused = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'SLOTLINK_ERR_BACKPRESSURE');
    assert.ok(refused.length > 0, 'some requests were refused with SLOTLINK_ERR_BACKPRESSURE');
    assert.ok(asker.stats().queuedBytes <= 50_000, `the asker queues at most maxPendingBytes (${asker.stats().queuedBytes})`);
  } finally {
    await asker.close().catch(() => {});
    await hoarder.close();
  }
});
