/**
 * One benchmark process. The same two processes run every contender in turn: slotlink
 * through the proxy, a Unix socket and a TCP connection between them, so the figures
 * compare transports, not processes.
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
let countDone: ((t: number) => void) | null = null;

function counted1(): void {
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
const zmqSockets: Array<{ close(): void }> = [];

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
  async slotlinkStream(a: { to: string; n: number; size: number; via?: string }) {
    const e = ep(a.via);
    const data = Buffer.alloc(a.size);
    const start = now();
    for (let i = 0; i < a.n; i++) {
      data.writeUInt32LE(i, 0);
      while (!e.trySend(a.to, data)) await e.writable();
    }
    return { start };
  },
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
  async socketStream(a: { n: number; size: number }) {
    const one = frame(Frame.DATA, a.size);
    const perChunk = Math.max(1, Math.floor(65536 / one.length));
    const start = now();
    for (let sent = 0; sent < a.n; ) {
      const k = Math.min(perChunk, a.n - sent);
      const chunk = Buffer.allocUnsafe(k * one.length);
      for (let i = 0; i < k; i++) {
        one.writeUInt32LE(a.size, 0);
        one.copy(chunk, i * one.length);
      }
      sent += k;
      if (!client!.write(chunk)) await new Promise((r) => client!.once('drain', r));
    }
    return { start };
  },
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
  async natsStream(a: { subject: string; n: number; size: number }) {
    const data = Buffer.alloc(a.size);
    const start = now();
    for (let i = 0; i < a.n; i++) {
      nats!.publish(a.subject, data);
      if ((i & 1023) === 1023) await nats!.flush(); // let the client's buffer drain
    }
    await nats!.flush();
    return { start };
  },
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
  /** Binds a PULL socket (counted) and a REP socket (echo) on loopback; returns both endpoints. */
  async zmqBind() {
    const zmq = (await import('zeromq')) as unknown as Record<string, new () => any>;
    const pull = new zmq.Pull!();
    const rep = new zmq.Reply!();
    await pull.bind('tcp://127.0.0.1:*');
    await rep.bind('tcp://127.0.0.1:*');
    zmqSockets.push(pull, rep);
    void (async () => {
      for await (const _m of pull) counted1();
    })();
    void (async () => {
      for await (const [m] of rep) await rep.send(m);
    })();
    return { pull: pull.lastEndpoint as string, rep: rep.lastEndpoint as string };
  },
  async zmqConnect(a: { pull: string; rep: string }) {
    const zmq = (await import('zeromq')) as unknown as Record<string, new () => any>;
    zmqPush = new zmq.Push!();
    zmqReq = new zmq.Request!();
    zmqPush!.connect(a.pull);
    zmqReq!.connect(a.rep);
    zmqSockets.push(zmqPush!, zmqReq!);
    return {};
  },
  /** Connects this sender's PUSH socket to every receiver's PULL endpoint. */
  zmqConnectAll(a: { pulls: string[] }) {
    for (const e of a.pulls) zmqPush!.connect(e);
    return {};
  },
  async zmqStream(a: { n: number; size: number }) {
    const data = Buffer.alloc(a.size);
    const start = now();
    for (let i = 0; i < a.n; i++) await zmqPush!.send(data);
    return { start };
  },
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
  async close() {
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
