/**
 * One process of the publish/subscribe benchmark (bench/pubsub.ts), driven over IPC: it
 * publishes or subscribes through slotlink (its proxy) and through NATS (a nats-server), each
 * the idiomatic way: `await ep.publish()` and `for await (const m of ep.subscribe())` for
 * slotlink, `nc.publish()` with a flush every 1024 and `for await (const m of
 * nc.subscribe())` for NATS. Each publication carries its sequence number and the
 * measurement's tag (u32 each, little-endian), so every subscriber checks that it received
 * every publication of the measurement, in order, and none of another.
 */
import { connect } from '../src/client/connect.js';
import type { Endpoint } from '../src/client/endpoint.js';
import { emitIpc, serveIpc } from '../src/util/ipc-child.js';

export type Kind = 'slotlink' | 'nats';

const now = () => Number(process.hrtime.bigint()) / 1e3; // µs, CLOCK_MONOTONIC: comparable across processes

type NatsMsg = { data: Uint8Array };
type Nats = {
  publish(s: string, d: Uint8Array): void;
  subscribe(s: string): AsyncIterable<NatsMsg>;
  flush(): Promise<void>;
  close(): Promise<void>;
};
let ep: Endpoint | null = null;
let nats: Nats | null = null;

/** What one subscription of a kind saw in the current measurement. */
interface Received {
  expected: number;
  tag: number;
  count: number;
  /** The sequence number due next. */
  next: number;
  /** What broke the order or came from another measurement (the first ten). */
  bad: string[];
  outOfOrder: number;
  firstAt: number;
  /** When the last expected one arrived; until then, when the last multiple of 1024 did. */
  lastAt: number;
  /** Resolves a waiting `received` call once the count is reached. */
  done: (() => void) | null;
}
const fresh = (expected = 0, tag = 0): Received => ({ expected, tag, count: 0, next: 0, bad: [], outOfOrder: 0, firstAt: 0, lastAt: 0, done: null });
const received: Record<Kind, Received> = { slotlink: fresh(), nats: fresh() };
const subscribed: Record<Kind, boolean> = { slotlink: false, nats: false };

const u32 = (d: Uint8Array, at: number) => (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;

function arrived(r: Received, d: Uint8Array): void {
  const seq = u32(d, 0);
  const tag = u32(d, 4);
  if (seq !== r.next || tag !== r.tag) {
    r.outOfOrder++;
    if (r.bad.length < 10) r.bad.push(tag !== r.tag ? `#${seq} of measurement ${tag} during measurement ${r.tag}` : `#${seq} where #${r.next} was due`);
  }
  r.next = seq + 1;
  const n = ++r.count;
  if (n === 1) r.firstAt = now();
  if (n === r.expected) {
    r.lastAt = now();
    r.done?.();
  } else if ((n & 1023) === 0) r.lastAt = now();
}

/** The same payload layout for both: [0, 4) sequence number, [4, 8) the measurement's tag. */
function stamp(d: Uint8Array, seq: number, tag: number): void {
  d[0] = seq & 0xff;
  d[1] = (seq >>> 8) & 0xff;
  d[2] = (seq >>> 16) & 0xff;
  d[3] = seq >>> 24;
  d[4] = tag & 0xff;
  d[5] = (tag >>> 8) & 0xff;
  d[6] = (tag >>> 16) & 0xff;
  d[7] = tag >>> 24;
}

/** Publications of the NATS publisher between two flushes (as bench/peer.ts's bulk streams). */
const NATS_FLUSH_EVERY = 1024;

const publishers: Record<Kind, (subject: string, n: number, size: number, tag: number) => Promise<void>> = {
  /** One buffer, reused: publish() has copied it into the slot once its promise resolves. */
  async slotlink(subject, n, size, tag) {
    const e = ep!;
    const data = Buffer.alloc(size);
    for (let i = 0; i < n; i++) {
      stamp(data, i, tag);
      await e.publish(subject, data);
    }
  },
  /**
   * nats.js keeps a reference to each payload until it writes its buffer out, so every
   * publication between two flushes has its own bytes (one block, reused after each flush:
   * by then everything before it has been written).
   */
  async nats(subject, n, size, tag) {
    const nc = nats!;
    const block = Buffer.alloc(Math.min(n, NATS_FLUSH_EVERY) * size);
    for (let i = 0; i < n; i++) {
      const at = (i % NATS_FLUSH_EVERY) * size;
      const d = block.subarray(at, at + size);
      stamp(d, i, tag);
      nc.publish(subject, d);
      if ((i + 1) % NATS_FLUSH_EVERY === 0) await nc.flush();
    }
    await nc.flush();
  },
};

serveIpc({
  async connect(a: { socket: string; name: string }) {
    ep = await connect({ name: a.name, socket: a.socket });
    return { address: ep.address };
  },
  async natsConnect(a: { url: string }) {
    const mod = (await import('nats')) as unknown as { connect(o: object): Promise<Nats> };
    nats = await mod.connect({ servers: a.url });
    return {};
  },
  /** Subscribes to `subject` and counts and checks what arrives, from now until the process ends. */
  async subscribe(a: { kind: Kind; subject: string }) {
    if (subscribed[a.kind]) throw new Error(`already subscribed through ${a.kind}`);
    subscribed[a.kind] = true;
    if (a.kind === 'slotlink') {
      const sub = ep!.subscribe(a.subject);
      await sub.ready;
      void (async () => {
        for await (const m of sub) arrived(received.slotlink, m.data);
      })();
    } else {
      const sub = nats!.subscribe(a.subject);
      void (async () => {
        for await (const m of sub) arrived(received.nats, m.data);
      })();
      await nats!.flush(); // the server has the subscription
    }
    return {};
  },
  /** The next measurement: `n` publications tagged `tag`. */
  expect(a: { kind: Kind; n: number; tag: number }) {
    received[a.kind] = fresh(a.n, a.tag);
    return {};
  },
  /**
   * Resolves once all expected have arrived, or nothing arrived for `quietMs`, with what this
   * subscriber saw.
   */
  async received(a: { kind: Kind; quietMs: number }) {
    const r = received[a.kind];
    let last = -1;
    while (r.count < r.expected && r.count !== last) {
      last = r.count;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, a.quietMs);
        r.done = () => (clearTimeout(timer), resolve());
      });
      r.done = null;
    }
    return { count: r.count, expected: r.expected, firstAt: r.firstAt, lastAt: r.lastAt, outOfOrder: r.outOfOrder, bad: r.bad };
  },
  /** Publishes `n` publications of `size` bytes to `subject`; when the first left and the last was handed over. */
  async publish(a: { kind: Kind; subject: string; n: number; size: number; tag: number }) {
    const start = now();
    await publishers[a.kind](a.subject, a.n, Math.max(8, a.size), a.tag);
    return { start, end: now() };
  },
  async close() {
    await nats?.close();
    await ep?.close();
    return {};
  },
});
emitIpc('started');
