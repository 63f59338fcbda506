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
let ep: Endpoint | null = null;
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

let server: net.Server | null = null;
let client: net.Socket | null = null;

serveIpc({
  async connect(a: { socket: string; name: string }) {
    ep = await connect({ name: a.name, socket: a.socket });
    ep.respond((m) => m.data);
    void (async () => {
      for await (const _m of ep!) counted1();
    })();
    return { address: ep.address };
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
  async slotlinkRtt(a: { to: string; n: number; size: number }) {
    const data = Buffer.alloc(a.size);
    const rtts: number[] = [];
    for (let i = 0; i < a.n; i++) {
      const t = now();
      await ep!.request(a.to, data);
      rtts.push(now() - t);
    }
    return { rtts };
  },
  async slotlinkStream(a: { to: string; n: number; size: number }) {
    const data = Buffer.alloc(a.size);
    const start = now();
    for (let i = 0; i < a.n; i++) {
      data.writeUInt32LE(i, 0);
      while (!ep!.trySend(a.to, data)) await ep!.writable();
    }
    return { start };
  },
  async listen(a: { path?: string }) {
    server = net.createServer((s) => {
      s.setNoDelay(true);
      s.on('data', parser((type, whole) => (type === Frame.PING ? s.write(whole) : counted1())));
    });
    await new Promise<void>((r) => (a.path ? server!.listen(a.path, r) : server!.listen(0, '127.0.0.1', r)));
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
  async close() {
    client?.destroy();
    server?.close();
    await ep?.close();
    return {};
  },
});
emitIpc('started');
