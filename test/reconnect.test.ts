/**
 * An endpoint outlives its proxy (issue 12): when the proxy dies, restarts or shuts down,
 * the endpoint registers again under its name and goes on at a new address. Requests
 * waiting for answers fail at once (SLOTLINK_ERR_DISCONNECTED); what was queued behind the
 * old slot and what is sent during the outage goes into the new one, in order; sends wait
 * at most outageWaitMs; `reconnect: false` keeps the old end. Real proxy processes, killed
 * and started again on the same socket.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, type ConnectOptions } from '../src/client/connect.js';
import type { Endpoint } from '../src/client/endpoint.js';
import { endIsFinal, reconnectDelay, worthRetrying } from '../src/client/reconnect-policy.js';
import type { StatusEvent, StatusIterator } from '../src/client/status.js';
import { SlotlinkError } from '../src/errors.js';
import { waitForState } from './helpers/claim-rig.js';
import { Rig } from './helpers/rig.js';

const SMALL_SLOT = ['--cells', '2', '--cell-bytes', '4096'];

/** The next status event of `type`, skipping others; fails if the iterator ends first. */
async function next<T extends StatusEvent['type']>(status: StatusIterator, type: T): Promise<Extract<StatusEvent, { type: T }>> {
  for (;;) {
    const r = await status.next();
    assert.ok(!r.done, `the status iterator ended before a "${type}" event`);
    if (r.value.type === type) return r.value as Extract<StatusEvent, { type: T }>;
  }
}

function numbered(i: number, size = 512): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(i, 0);
  return b;
}

/** What an endpoint receives: the numbers its messages carry, in arrival order, with their senders. */
function receiver(ep: Endpoint) {
  const all: Array<{ from: string; n: number }> = [];
  const waiters: Array<() => void> = [];
  const done = (async () => {
    for await (const m of ep) {
      all.push({ from: m.from, n: m.data.readUInt32LE(0) });
      for (const w of waiters.splice(0)) w();
    }
  })();
  return {
    done,
    /** The numbers of the messages from senders whose address starts with `prefix`, once there are `count`. */
    async from(prefix: string, count: number): Promise<number[]> {
      const pick = () => all.filter((m) => m.from.startsWith(prefix)).map((m) => m.n);
      while (pick().length < count) await new Promise<void>((r) => waiters.push(r));
      return pick();
    },
  };
}

/** A proxy (with `args`) and the endpoints a test opens on it, all ended however the test ends. */
async function scene(args: string[], body: (rig: Rig, open: (o: Omit<ConnectOptions, 'socket'>) => Promise<Endpoint>) => Promise<void>): Promise<void> {
  const rig = await Rig.start(args);
  const endpoints: Endpoint[] = [];
  try {
    await body(rig, async (o) => {
      const ep = await connect({ socket: rig.socket, ...o });
      endpoints.push(ep);
      return ep;
    });
  } finally {
    const closing = endpoints.map((e) => e.close());
    await rig.close(); // an endpoint whose proxy stopped reading closes once the proxy is gone
    await Promise.all(closing);
  }
}

async function killProxy(rig: Rig): Promise<void> {
  const exited = new Promise((r) => rig.proxy.child.once('exit', r));
  process.kill(rig.proxy.pid, 'SIGKILL');
  await exited;
}

test('an endpoint outlives its proxy: after kill -9 and a new proxy on the same socket, the same endpoint is answered and reached again (before issue 12 it closed)', { timeout: 30_000 }, () =>
  scene([], async (rig, open) => {
    const ep = await open({ name: 'survivor' });
    assert.equal((await ep.request('~proxy', 'before')).toString(), 'before');
    await killProxy(rig);
    await rig.startProxy();
    // Sent during the outage or after it: either way it waits for the new registration.
    assert.equal((await ep.request('~proxy', 'after')).toString(), 'after');
    await ep.send('survivor', 'to itself, under its name');
    for await (const m of ep) {
      assert.equal(m.text(), 'to itself, under its name');
      break;
    }
  }));

test('kill -9 of the proxy, then a new proxy on the same socket: the endpoint registers again, and what it queued and sent meanwhile arrives', { timeout: 60_000 }, () =>
  scene(SMALL_SLOT, async (rig, open) => {
    const silent = await rig.worker('silent'); // takes requests, never answers; registers again too
    const ep = await open({ name: 'phoenix' });
    const status = ep.status();
    const got = receiver(ep);

    // A request waiting for its answer when the proxy dies.
    const waiting = ep.request('silent', 'anyone?', { timeout: 60_000 }).then(() => null, (e: Error & { code: string }) => e);
    await silent.call('collect', { count: 1 });

    // The proxy stops reading: the slot fills and the rest queues in the client.
    process.kill(rig.proxy.pid, 'SIGSTOP');
    await waitForState(rig.proxy.pid, 'T');
    const sends: Array<Promise<void>> = [];
    let inSlot = 0;
    for (let i = 0; i < 100; i++) {
      const p = ep.send('phoenix', numbered(i));
      sends.push(p);
      void p.then(() => inSlot++, () => {});
    }
    await new Promise((r) => setImmediate(r));
    const inOldSlot = inSlot; // sends resolve in order, once in the slot: 0 .. inOldSlot-1
    assert.ok(inOldSlot > 0 && inOldSlot < 100, `the slot holds part of them (${inOldSlot})`);
    assert.ok(ep.stats().queuedBytes > 0);
    const killedAt = Date.now();
    await killProxy(rig);

    const down = await next(status, 'disconnected');
    assert.equal(down.error.code, 'SLOTLINK_ERR_DISCONNECTED');
    const err = await waiting;
    assert.equal(err?.code, 'SLOTLINK_ERR_DISCONNECTED', 'the waiting request fails at once');
    assert.match(err!.message, /the proxy went away while this request waited for its answer; it may or may not have been delivered/);
    assert.ok(Date.now() - killedAt < 10_000, 'not at its timeout');

    // During the outage: trySend says no, sends and requests wait.
    assert.equal(ep.trySend('phoenix', numbered(999)), false);
    for (let i = 100; i < 110; i++) sends.push(ep.send('phoenix', numbered(i)));
    const ping = ep.request('~proxy', 'back?');
    const attempt = await next(status, 'reconnecting');
    assert.ok(attempt.attempt >= 1 && attempt.delayMs >= 0);

    await rig.startProxy(SMALL_SLOT);
    const up = await next(status, 'reconnected');
    assert.equal(ep.address, up.address, 'the address is the new registration\'s');
    assert.ok((await rig.status()).slots.some((x) => x.address === up.address && x.name === 'phoenix'));
    await Promise.all(sends);
    assert.equal((await ping).toString(), 'back?');

    // What never got into the old slot, then what was sent during the outage, in order; what
    // was in the old slot went with the old proxy.
    assert.deepEqual(await got.from('phoenix~', 110 - inOldSlot), Array.from({ length: 110 - inOldSlot }, (_, k) => inOldSlot + k));

    // Others reach it under its name again.
    await silent.waitFor((e) => e.event === 'status' && e.type === 'reconnected');
    await silent.call('send', { to: 'phoenix', count: 5, size: 64 });
    assert.deepEqual(await got.from('silent~', 5), [0, 1, 2, 3, 4]);

    assert.equal(ep.stats().reconnects, 1);
    await ep.close();
    assert.equal(await ep.closed, null);
    await got.done; // the iterator ends with the endpoint
    assert.equal((await status.next()).done, true, 'so does the status iterator');
  }));

test('SIGTERM to the proxy, then a new one: every message the endpoint sent arrives once, in order', { timeout: 60_000 }, () =>
  scene(SMALL_SLOT, async (rig, open) => {
    const ep = await open({ name: 'upgraded' });
    const status = ep.status();
    const got = receiver(ep);
    let sent = 0;
    let stop = false;
    const sending = (async () => {
      while (!stop) {
        for (let k = 0; k < 32; k++) await ep.send('upgraded', numbered(sent++, 64));
        await new Promise((r) => setImmediate(r));
      }
    })();
    await got.from('upgraded~', 2000);
    const stopped = rig.proxy.stop();
    const down = await next(status, 'disconnected');
    assert.equal(down.error.code, 'SLOTLINK_ERR_PROXY_SHUTDOWN', 'the proxy said why');
    assert.equal(await stopped, 0);
    await rig.startProxy(SMALL_SLOT);
    await next(status, 'reconnected');
    const after = sent;
    while (sent < after + 2000) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await sending;
    assert.deepEqual(await got.from('upgraded~', sent), Array.from({ length: sent }, (_, i) => i), 'none lost, none twice, in order');
  }));

test('reconnect: false keeps the old end: the endpoint closes with its proxy', { timeout: 30_000 }, () =>
  scene([], async (rig, open) => {
    await rig.worker('silent');
    const ep = await open({ name: 'mortal', reconnect: false });
    const status = ep.status();
    const waiting = ep.request('silent', 'anyone?', { timeout: 60_000 }).then(() => null, (e: Error & { code: string }) => e);
    await ep.flush(); // the request is in the proxy
    await killProxy(rig);
    assert.equal((await waiting)?.code, 'SLOTLINK_ERR_CLOSED');
    assert.equal((await ep.closed)?.code, 'SLOTLINK_ERR_CLOSED');
    await assert.rejects(ep.send('silent', 'x'), { code: 'SLOTLINK_ERR_CLOSED' });
    await assert.rejects(ep.flush(), { code: 'SLOTLINK_ERR_CLOSED' });
    assert.deepEqual(await status.next(), { value: undefined, done: true }, 'no disconnected event: it ended');
  }));

test('an outage longer than outageWaitMs fails what waits with SLOTLINK_ERR_DISCONNECTED; the endpoint goes on trying and comes back', { timeout: 30_000 }, () =>
  scene([], async (rig, open) => {
    const ep = await open({ name: 'patient', outageWaitMs: 300, reconnectDelayMs: 20, maxReconnectDelayMs: 50 });
    const status = ep.status();
    await killProxy(rig);
    await next(status, 'disconnected');
    const t0 = Date.now();
    const [send, writable, flush, request] = await Promise.allSettled([ep.send('anyone', 'hello?'), ep.writable(), ep.flush(), ep.request('anyone', 'there?')]);
    assert.ok(Date.now() - t0 >= 250, 'they waited for the proxy');
    for (const r of [send, writable, flush, request]) {
      assert.equal(r.status, 'rejected');
      assert.equal((r as PromiseRejectedResult).reason.code, 'SLOTLINK_ERR_DISCONNECTED');
    }
    assert.match((send as PromiseRejectedResult).reason.message, /message to "anyone" not sent: no proxy took it within 300 ms \(outageWaitMs\)/);
    assert.equal(ep.stats().queuedBytes, 0, 'nothing is held once it has failed');
    // Attempts go on, each after its delay, the delay doubling up to its maximum (±50 %).
    const attempts: number[] = [];
    while (attempts.length < 5) {
      const a = await next(status, 'reconnecting');
      assert.ok(a.delayMs <= 75, `delay ${a.delayMs} within maxReconnectDelayMs + 50 %`);
      attempts.push(a.attempt);
    }
    assert.deepEqual(attempts, attempts.map((_, i) => attempts[0]! + i), 'counted one by one');
    await rig.startProxy();
    await next(status, 'reconnected');
    assert.equal((await ep.request('~proxy', 'ok')).toString(), 'ok');
  }));

test('maxReconnectAttempts: when they run out the endpoint closes with SLOTLINK_ERR_DISCONNECTED', { timeout: 30_000 }, () =>
  scene([], async (rig, open) => {
    const ep = await open({ name: 'quitter', maxReconnectAttempts: 3, reconnectDelayMs: 10, maxReconnectDelayMs: 20 });
    const status = ep.status();
    const closeEvent = new Promise((r) => ep.once('close', r));
    await killProxy(rig);
    const reason = await ep.closed;
    assert.equal(reason?.code, 'SLOTLINK_ERR_DISCONNECTED');
    assert.match(reason!.message, /gave up registering again with the proxy at .* after 3 attempts \(maxReconnectAttempts\): no slotlink proxy is listening/);
    assert.equal(await closeEvent, reason);
    const seen: StatusEvent[] = [];
    for await (const e of status) seen.push(e);
    assert.deepEqual(seen.map((e) => e.type), ['disconnected', 'reconnecting', 'reconnecting', 'reconnecting']);
    await assert.rejects(ep.send('anyone', 'x'), { code: 'SLOTLINK_ERR_CLOSED' });
  }));

test('a name still held when the endpoint comes back (SLOTLINK_ERR_NAME_TAKEN): it tries again until the name is free', { timeout: 30_000 }, () =>
  scene([], async (rig, open) => {
    // A process of its own, held still while another takes its name on the new proxy.
    const w = await rig.worker('contested', { reconnectDelayMs: 20 });
    process.kill(w.pid, 'SIGSTOP');
    await waitForState(w.pid, 'T');
    let squatter: Endpoint;
    try {
      await killProxy(rig);
      await rig.startProxy();
      squatter = await open({ name: 'contested' });
    } finally {
      process.kill(w.pid, 'SIGCONT');
    }
    await w.waitFor((e) => e.event === 'status' && e.type === 'disconnected');
    await w.waitFor((e) => e.event === 'status' && e.type === 'reconnecting' && (e.attempt as number) >= 3); // refused twice at least
    assert.ok(!w.events.some((e) => e.event === 'status' && e.type === 'reconnected'));
    assert.ok(!w.events.some((e) => e.event === 'close'), 'a taken name is worth another try');
    await squatter.close();
    const back = await w.waitFor((e) => e.event === 'status' && e.type === 'reconnected');
    assert.match(String(back.address), /^contested~/);
  }));

test('a proxy started with a smaller maximum message size: what was held and is now too large is refused, the rest goes', { timeout: 30_000 }, () =>
  scene([], async (rig, open) => {
    const ep = await open({ name: 'big' });
    const status = ep.status();
    const got = receiver(ep);
    await killProxy(rig);
    await next(status, 'disconnected');
    const large = ep.send('big', numbered(1, 8000));
    const small = ep.send('big', numbered(2, 100));
    await rig.startProxy(['--max-message-bytes', '4096']);
    await next(status, 'reconnected');
    await assert.rejects(large, { code: 'SLOTLINK_ERR_MESSAGE_TOO_LARGE' });
    await small;
    assert.deepEqual(await got.from('big~', 1), [2]);
    assert.equal(ep.maxMessageBytes, 4096);
  }));

test('the reconnect policy: delays double up to the maximum within ±50 %; only refusals no attempt mends are final', () => {
  const policy = { delayMs: 100, maxDelayMs: 5000, maxAttempts: Infinity };
  for (const [attempt, nominal] of [[1, 100], [2, 200], [3, 400], [7, 5000], [60, 5000], [2000, 5000]] as const) {
    assert.equal(reconnectDelay(policy, attempt, () => 0), nominal / 2, `attempt ${attempt}, least`);
    assert.equal(reconnectDelay(policy, attempt, () => 0.5), nominal, `attempt ${attempt}, middle`);
    assert.ok(reconnectDelay(policy, attempt, () => 0.999999) <= nominal * 1.5, `attempt ${attempt}, most`);
  }
  for (const code of ['SLOTLINK_ERR_INVALID_NAME', 'SLOTLINK_ERR_NOT_PERMITTED', 'SLOTLINK_ERR_PROTOCOL_VERSION'] as const) {
    assert.equal(worthRetrying(new SlotlinkError(code, 'no')), false, code);
    assert.equal(endIsFinal(new SlotlinkError(code, 'no')), true, code);
  }
  for (const code of ['SLOTLINK_ERR_PROXY_UNAVAILABLE', 'SLOTLINK_ERR_NAME_TAKEN', 'SLOTLINK_ERR_PROXY_FULL', 'SLOTLINK_ERR_PROXY_SHUTDOWN', 'SLOTLINK_ERR_REGISTRATION', 'SLOTLINK_ERR_SYSCALL'] as const)
    assert.equal(worthRetrying(new SlotlinkError(code, 'maybe later')), true, code);
  for (const code of ['SLOTLINK_ERR_BAD_SLOT', 'SLOTLINK_ERR_BAD_RECORD', 'SLOTLINK_ERR_REGISTRATION'] as const) assert.equal(endIsFinal(new SlotlinkError(code, 'broken')), true, code);
  assert.equal(endIsFinal(null), false, 'a connection that just closed');
  assert.equal(endIsFinal(new SlotlinkError('SLOTLINK_ERR_PROXY_SHUTDOWN', 'bye')), false);
});
