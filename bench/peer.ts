/**
 * One benchmark process. The same processes run every contender in turn: slotlink through
 * the proxy, a Unix socket or a TCP connection between them, NATS and ZeroMQ, so the figures
 * compare transports, not processes. Each process can stream (a given number of messages, or
 * until told to stop), receive and count, answer requests, and time requests (one at a time,
 * or paced: one every interval whether or not earlier ones were answered).
 */
import net from 'node:net';
import { connect } from '../src/client/connect.js';
import type { Endpoint } from '../src/client/endpoint.js';
import { emitIpc, serveIpc } from '../src/util/ipc-child.js';

const now = () => Number(process.hrtime.bigint()) / 1e3; // µs, CLOCK_MONOTONIC: comparable across processes
/** Endpoints by proxy (a process may register with more than one, e.g. a plaintext and a TLS mesh). */
const eps = new Map<string, Endpoint>();
const ep = (via = 'main') => eps.get(via)!;
let expected = 0;
let counted = 0;
/** Every message counted since the process started (for rates over a window). */
let receivedTotal = 0;
let countDone: ((t: number) => void) | null = null;

function counted1(): void {
  receivedTotal++;
  if (++counted === expected && countDone) {
    countDone(now());
    countDone = null;
  }
}

// ---- stream framing for the socket contenders: [u32 length][u8 type][payload] ----
const Frame = { PING: 1, DATA: 2 } as const;

function frame(type: number, size: number): Buffer {
  const b = Buffer.alloc(5 + size);
  b.writeUInt32LE(size, 0);
  b[4] = type;
  return b;
}

/** Parses frames from a stream; calls onFrame(type, frameBytes) for each. */
function parser(onFrame: (type: number, whole: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | null = null;
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 5) {
      const len = buf.readUInt32LE(at);
      if (buf.length - at < 5 + len) break;
      onFrame(buf[at + 4]!, buf.subarray(at, at + 5 + len));
      at += 5 + len;
    }
    pending = at < buf.length ? buf.subarray(at) : null;
    buf = Buffer.alloc(0);
  };
}

const servers: net.Server[] = [];
let client: net.Socket | null = null;
/** Connections opened only to be counted (P senders × M receivers). */
const extraSockets: net.Socket[] = [];

// ---- NATS and ZeroMQ, loaded only when a benchmark asks for them ----
type Nats = { publish(s: string, d: Uint8Array): void; subscribe(s: string, o?: object): AsyncIterable<{ data: Uint8Array; respond(d: Uint8Array): boolean }>; request(s: string, d: Uint8Array, o: object): Promise<unknown>; flush(): Promise<void>; close(): Promise<void> };
let nats: Nats | null = null;
let zmqPush: { connect(e: string): void; send(b: Uint8Array): Promise<void>; close(): void } | null = null;
let zmqReq: { connect(e: string): void; send(b: Uint8Array): Promise<void>; receive(): Promise<Buffer[]>; close(): void } | null = null;
/** DEALER to a ROUTER: requests that need not wait for the previous reply (answered in order). */
let zmqDealer: { connect(e: string): void; send(b: Uint8Array): Promise<void>; close(): void } & AsyncIterable<Buffer[]> | null = null;
/** Resolvers of the dealer's requests in flight, oldest first. */
const dealerWaiting: Array<() => void> = [];
const zmqSockets = new Set<{ close(): void }>();
const closeZmq = (z: { close(): void } | null) => {
  if (z && zmqSockets.delete(z)) z.close();
};

// ---- streaming: the same loop for a given count or until stopped ----
type Kind = 'slotlink' | 'direct' | 'nats' | 'zmq';
/** How many more messages may be sent after `sent` (Infinity while a bulk stream runs). */
type Budget = (sent: number) => number;
/** Where a stream or request goes: a slotlink address (with its proxy), a NATS subject; direct and ZeroMQ use the socket connected. */
interface Target { to?: string; via?: string }
/**
 * Lets the event loop turn after every MiB a sender queued without having had to wait, so a
 * stream that never fills its buffers still sees a stop (and IPC) promptly.
 */
function turnEvery(bytes: number): (n: number) => Promise<void> | null {
  let since = 0;
  return (n) => ((since += n) >= bytes ? ((since = 0), new Promise<void>((r) => setImmediate(r))) : null);
}

/** Sends `size`-byte messages while budget(sent) > 0; resolves with the count sent. */
const streamers: Record<Kind, (t: Target, size: number, budget: Budget) => Promise<number>> = {
  async slotlink(t, size, budget) {
    const e = ep(t.via);
    const data = Buffer.alloc(size);
    const turn = turnEvery(1 << 20);
    let sent = 0;
    while (budget(sent) > 0) {
      data.writeUInt32LE(sent, 0);
      while (!e.trySend(t.to!, data)) await e.writable();
      sent++;
      const yielding = turn(size);
      if (yielding) await yielding;
    }
    return sent;
  },
  /** Many messages per write() (64 KiB chunks), waiting for 'drain' when the kernel is full. */
  async direct(_t, size, budget) {
    const one = frame(Frame.DATA, size);
    const perChunk = Math.max(1, Math.floor(65536 / one.length));
    const turn = turnEvery(1 << 20);
    let sent = 0;
    while (budget(sent) > 0) {
      const k = Math.min(perChunk, budget(sent));
      const chunk = Buffer.allocUnsafe(k * one.length);
      for (let i = 0; i < k; i++) {
        one.writeUInt32LE(size, 0);
        one.copy(chunk, i * one.length);
      }
      sent += k;
      if (!client!.write(chunk)) await new Promise((r) => client!.once('drain', r));
      else {
        const yielding = turn(chunk.length);
        if (yielding) await yielding;
      }
    }
    return sent;
  },
  async nats(t, size, budget) {
    const data = Buffer.alloc(size);
    let sent = 0;
    while (budget(sent) > 0) {
      nats!.publish(t.to!, data);
      if ((++sent & 1023) === 0) await nats!.flush(); // let the client's buffer drain
    }
    await nats!.flush();
    return sent;
  },
  async zmq(_t, size, budget) {
    const data = Buffer.alloc(size);
    const turn = turnEvery(1 << 20);
    let sent = 0;
    while (budget(sent) > 0) {
      await zmqPush!.send(data);
      sent++;
      const yielding = turn(size);
      if (yielding) await yielding;
    }
    return sent;
  },
};

/** A finite stream for the throughput tables: n messages, resolving with the time it started. */
async function finite(kind: Kind, t: Target, n: number, size: number): Promise<{ start: number }> {
  const start = now();
  await streamers[kind](t, size, (sent) => n - sent);
  return { start };
}

/** The bulk stream running until bulkStop, if any. */
interface Bulk { stop: boolean; done: Promise<number>; start: number }
let bulk: Bulk | null = null;

// ---- requests: one function per contender that sends one and resolves on its answer ----
const requesters: Record<Kind, (t: Target, size: number, timeoutMs: number) => () => Promise<unknown>> = {
  slotlink(t, size, timeout) {
    const e = ep(t.via);
    const data = Buffer.alloc(size);
    return () => e.request(t.to!, data, { timeout });
  },
  direct(_t, size, timeout) {
    const ping = frame(Frame.PING, size);
    return () => within(timeout, new Promise<void>((r) => (socketWaiting.push(r), client!.write(ping))));
  },
  nats(t, size, timeout) {
    const data = Buffer.alloc(size);
    return () => nats!.request(`rpc.${t.to}`, data, { timeout });
  },
  zmq(_t, size, timeout) {
    const data = Buffer.alloc(size);
    // One send at a time on a ZeroMQ socket: chain them (each is queued at once, no reply awaited).
    let sending: Promise<unknown> = Promise.resolve();
    return () => {
      const answered = new Promise<void>((r) => dealerWaiting.push(r));
      sending = sending.then(() => zmqDealer!.send(data));
      return within(timeout, answered);
    };
  },
};
/** `p`, or a rejection after `ms` (slotlink and NATS requests have timeouts of their own). */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
/** Resolvers of the pings in flight on `client`, oldest first (a direct socket answers in order). */
const socketWaiting: Array<() => void> = [];

/**
 * Sends a request every `intervalUs` (open loop: whether or not earlier ones were answered,
 * so a slow spell is sampled as often as a quick one) and resolves once all are answered.
 * After a timer that fired late the next request still waits at least half an interval (and
 * a whole timer), so requests never go back to back.
 */
async function paced(n: number, intervalUs: number, one: () => Promise<unknown>): Promise<{ rtts: number[]; failed: number; start: number; lastSent: number; end: number }> {
  const rtts: number[] = [];
  let failed = 0;
  const inFlight: Promise<unknown>[] = [];
  const start = now();
  let due = start;
  let t = start;
  for (let i = 0; i < n; i++) {
    const wait = due - now();
    // Node's timers count whole milliseconds, at least 1, and fire a little late: at a 1 ms
    // pace every request waits for one timer, so they leave 1 ms apart or a little more.
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.max(1, Math.round(wait / 1000))));
    t = now();
    const sent = t;
    inFlight.push(one().then(() => rtts.push(now() - sent), () => failed++));
    due = Math.max(due + intervalUs, t + intervalUs / 2);
  }
  await Promise.all(inFlight);
  return { rtts, failed, start, lastSent: t, end: now() };
}

serveIpc({
  async connect(a: { socket: string; name: string; via?: string }) {
    const e = await connect({ name: a.name, socket: a.socket });
    eps.set(a.via ?? 'main', e);
    e.respond((m) => m.data);
    void (async () => {
      for await (const _m of e) counted1();
    })();
    return { address: e.address };
  },
  expect(a: { n: number }) {
    expected = a.n;
    counted = 0;
    return {};
  },
  arrived() {
    if (counted === expected) return { at: now() };
    return new Promise((resolve) => (countDone = (at) => resolve({ at })));
  },
  async slotlinkRtt(a: { to: string; n: number; size: number; via?: string }) {
    const e = ep(a.via);
    const data = Buffer.alloc(a.size);
    const rtts: number[] = [];
    for (let i = 0; i < a.n; i++) {
      const t = now();
      await e.request(a.to, data);
      rtts.push(now() - t);
    }
    return { rtts };
  },
  slotlinkStream: (a: { to: string; n: number; size: number; via?: string }) => finite('slotlink', a, a.n, a.size),
  async listen(a: { path?: string }) {
    const server = net.createServer((s) => {
      s.setNoDelay(true);
      s.on('data', parser((type, whole) => (type === Frame.PING ? s.write(whole) : counted1())));
    });
    servers.push(server);
    await new Promise<void>((r) => (a.path ? server.listen(a.path, r) : server.listen(0, '127.0.0.1', r)));
    const addr = server.address();
    return typeof addr === 'string' ? { path: addr } : { port: addr!.port };
  },
  async dial(a: { path?: string; port?: number }) {
    client?.destroy();
    client = a.path ? net.connect(a.path) : net.connect(a.port!, '127.0.0.1');
    client.setNoDelay(true);
    await new Promise((r) => client!.once('connect', r));
    return {};
  },
  /** Opens one TCP connection to each port (this sender to every receiver). */
  async dialAll(a: { ports: number[] }) {
    client?.destroy();
    client = null;
    for (const port of a.ports) {
      const s = net.connect(port, '127.0.0.1');
      extraSockets.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    return {};
  },
  async socketRtt(a: { n: number; size: number }) {
    const ping = frame(Frame.PING, a.size);
    const rtts: number[] = [];
    let resolveOne: (() => void) | null = null;
    const onData = parser(() => resolveOne?.());
    client!.on('data', onData);
    for (let i = 0; i < a.n; i++) {
      const t = now();
      await new Promise<void>((r) => {
        resolveOne = r;
        client!.write(ping);
      });
      rtts.push(now() - t);
    }
    client!.off('data', onData);
    return { rtts };
  },
  /** Many messages per write() (64 KiB chunks), waiting for 'drain' when the kernel is full. */
  socketStream: (a: { n: number; size: number }) => finite('direct', {}, a.n, a.size),
  async natsConnect(a: { url: string; subject: string }) {
    const mod = (await import('nats')) as unknown as { connect(o: object): Promise<Nats> };
    nats = await mod.connect({ servers: a.url });
    const sub = nats.subscribe(a.subject);
    void (async () => {
      for await (const _m of sub) counted1();
    })();
    const rpc = nats.subscribe(`rpc.${a.subject}`);
    void (async () => {
      for await (const m of rpc) m.respond(m.data);
    })();
    await nats.flush();
    return {};
  },
  natsStream: (a: { subject: string; n: number; size: number }) => finite('nats', { to: a.subject }, a.n, a.size),
  async natsRtt(a: { subject: string; n: number; size: number }) {
    const data = Buffer.alloc(a.size);
    const rtts: number[] = [];
    for (let i = 0; i < a.n; i++) {
      const t = now();
      await nats!.request(`rpc.${a.subject}`, data, { timeout: 5000 });
      rtts.push(now() - t);
    }
    return { rtts };
  },
  /**
   * Binds a PULL socket (counted) and a REP socket (echo) on loopback, and with `router` a
   * ROUTER socket (echo, for DEALERs with several requests in flight); returns the endpoints.
   */
  async zmqBind(a: { router?: boolean } = {}) {
    const zmq = (await import('zeromq')) as unknown as Record<string, new () => any>;
    const pull = new zmq.Pull!();
    const rep = new zmq.Reply!();
    await pull.bind('tcp://127.0.0.1:*');
    await rep.bind('tcp://127.0.0.1:*');
    zmqSockets.add(pull).add(rep);
    void (async () => {
      for await (const _m of pull) counted1();
    })();
    void (async () => {
      for await (const [m] of rep) await rep.send(m);
    })();
    let router: string | undefined;
    if (a.router) {
      const r = new zmq.Router!();
      await r.bind('tcp://127.0.0.1:*');
      zmqSockets.add(r);
      void (async () => {
        for await (const [id, m] of r) await r.send([id, m]);
      })();
      router = r.lastEndpoint as string;
    }
    return { pull: pull.lastEndpoint as string, rep: rep.lastEndpoint as string, router };
  },
  /** A PUSH socket to `pull`, a REQ socket to `rep` and a DEALER to `router` (those given), in place of any before. */
  async zmqConnect(a: { pull?: string; rep?: string; router?: string }) {
    const zmq = (await import('zeromq')) as unknown as Record<string, new () => any>;
    if (a.pull) {
      closeZmq(zmqPush);
      zmqPush = new zmq.Push!();
      zmqPush!.connect(a.pull);
      zmqSockets.add(zmqPush!);
    }
    if (a.rep) {
      closeZmq(zmqReq);
      zmqReq = new zmq.Request!();
      zmqReq!.connect(a.rep);
      zmqSockets.add(zmqReq!);
    }
    if (a.router) {
      closeZmq(zmqDealer);
      const d = new zmq.Dealer!();
      d.connect(a.router);
      zmqSockets.add(d);
      zmqDealer = d;
      void (async () => {
        for await (const _m of d) dealerWaiting.shift()?.();
      })().catch(() => {}); // ends when the socket closes
    }
    return {};
  },
  /** Connects this sender's PUSH socket to every receiver's PULL endpoint. */
  zmqConnectAll(a: { pulls: string[] }) {
    for (const e of a.pulls) zmqPush!.connect(e);
    return {};
  },
  zmqStream: (a: { n: number; size: number }) => finite('zmq', {}, a.n, a.size),
  async zmqRtt(a: { n: number; size: number }) {
    const data = Buffer.alloc(a.size);
    const rtts: number[] = [];
    for (let i = 0; i < a.n; i++) {
      const t = now();
      await zmqReq!.send(data);
      await zmqReq!.receive();
      rtts.push(now() - t);
    }
    return { rtts };
  },
  /** Starts streaming `size`-byte messages (kind: which contender; to: its destination) until bulkStop. */
  bulkStart(a: Target & { kind: Kind; size: number }) {
    if (bulk) throw new Error('a bulk stream is already running');
    const b: Bulk = { stop: false, start: now(), done: Promise.resolve(0) };
    b.done = streamers[a.kind](a, a.size, () => (b.stop ? 0 : Infinity));
    b.done.catch(() => {}); // reported by bulkStop, not as an unhandled rejection
    bulk = b;
    return { start: b.start };
  },
  /** Stops the bulk stream; resolves with what it sent once its last message is handed over. */
  async bulkStop() {
    const b = bulk;
    if (!b) throw new Error('no bulk stream is running');
    b.stop = true;
    const sent = await b.done;
    bulk = null;
    return { sent, start: b.start, end: now() };
  },
  /** Messages received so far (all counted ones since the start), and when. */
  received: () => ({ count: receivedTotal, at: now() }),
  /**
   * Times `n` requests of `size` bytes to `to` (kind: which contender), one every
   * `intervalUs`, not waiting for answers before the next; a direct socket and ZeroMQ use
   * the connection made by dial / zmqConnect({ router }). Returns the round trips (µs), the
   * requests that failed, when the first and the last left, and when the last answer came.
   */
  async pacedRequests(a: Target & { kind: Kind; n: number; size: number; intervalUs: number; timeoutMs?: number }) {
    const one = requesters[a.kind](a, a.size, a.timeoutMs ?? 10_000);
    const onData = parser(() => socketWaiting.shift()?.());
    if (a.kind === 'direct') client!.on('data', onData);
    try {
      return await paced(a.n, a.intervalUs, one);
    } finally {
      if (a.kind === 'direct') client!.off('data', onData);
    }
  },
  async close() {
    if (bulk) {
      bulk.stop = true;
      await bulk.done.catch(() => 0);
    }
    for (const z of zmqSockets) z.close();
    await nats?.close();
    client?.destroy();
    for (const s of extraSockets) s.destroy();
    for (const s of servers) s.close();
    for (const e of eps.values()) await e.close();
    return {};
  },
});
emitIpc('started');
