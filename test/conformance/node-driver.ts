/**
 * The conformance suite's Node driver: the Node client (src/client) behind the same line
 * protocol as the C and Python drivers (see driver.ts). Receives continuously once
 * connected, checking each sender's sequence and payload pattern. Each subscription (the
 * test's `key` for it) is iterated as it arrives: a publication's payload is its publisher's
 * number and its sequence number (u32 each), checked to arrive in order per publisher, and
 * logged with its subject.
 */
import { createInterface } from 'node:readline';
import { connect } from '../../src/client/connect.js';
import type { Endpoint } from '../../src/client/endpoint.js';
import type { Subscription } from '../../src/client/subscription.js';
import { register } from '../../src/client/registration.js';
import { ControlOp } from '../../src/contract/registration.js';
import { checkPayload, fillPayload } from '../helpers/payload.js';

let ep: Endpoint | null = null;
const perSender = new Map<string, number>();
let received = 0;
/** What a collect waits for: wake it only then, not per message. */
let wanted = 0;
const bad: string[] = [];
let ended = false;
const waiters: Array<() => void> = [];
let stopSending = false;
/** Check each message's sequence and pattern (benchmarks turn it off). */
let verify = true;

const LOG_MAX = 10_000;

interface Watched {
  sub: Subscription;
  received: number;
  next: Map<number, number>;
  bad: string[];
  log: Array<[string, number, number]>;
  waiters: Array<() => void>;
}
const subs = new Map<string, Watched>();

async function watch(w: Watched): Promise<void> {
  for await (const m of w.sub) {
    if (m.data.length < 8) {
      if (w.bad.length < 10) w.bad.push(`a publication of ${m.data.length} bytes`);
      continue;
    }
    const publisher = m.data.readUInt32LE(0);
    const seq = m.data.readUInt32LE(4);
    const want = w.next.get(publisher) ?? 0;
    if (seq < want && w.bad.length < 10) w.bad.push(`publisher ${publisher}: ${seq} after ${want - 1}`);
    w.next.set(publisher, seq + 1);
    if (w.log.length < LOG_MAX) w.log.push([m.subject, publisher, seq]);
    w.received++;
    for (const f of w.waiters.splice(0)) f();
  }
}

function emit(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function consume(): void {
  void (async () => {
    for await (const m of ep!) {
      const want = perSender.get(m.from) ?? 0;
      const problem = verify ? checkPayload(m.data, want) : null;
      if (problem && bad.length < 10) bad.push(`from ${m.from}: ${problem}`);
      perSender.set(m.from, want + 1);
      received++;
      if (received >= wanted && waiters.length > 0) for (const w of waiters.splice(0)) w();
    }
    // The iterator ends after the endpoint closed and everything it held was taken.
    ended = true;
    for (const w of waiters.splice(0)) w();
  })();
}

const commands: Record<string, (a: any) => Promise<unknown>> = {
  async connect(a) {
    if (a.version !== undefined) {
      // The Node client always announces its own version: speak the hello directly.
      const reg = await register(a.socket, { op: ControlOp.HELLO, version: a.version, name: a.name }, 5000);
      reg.socket.destroy();
      return {};
    }
    // The suite's scenarios are the spec's (docs/slot-layout.md §6): one registration, whose
    // end is the client's end, as libslotlink does. Reconnecting is tested on its own (test/reconnect.test.ts).
    ep = await connect({ name: a.name, socket: a.socket, group: a.group === true, reconnect: a.reconnect === true });
    verify = a.verify !== false;
    ep.on('undeliverable', (u) => emit({ event: 'undeliverable', to: u.to, code: u.error.code, message: u.error.message }));
    ep.on('close', (reason) => emit({ event: 'close', code: reason?.code ?? null }));
    if (a.respond === 'echo') ep.respond((m) => m.data);
    else if (a.respond === 'address') ep.respond(() => ep!.address);
    if (a.consume !== false) consume();
    return { address: ep.address, pid: process.pid };
  },
  async send(a) {
    const buf = Buffer.alloc(a.size ?? 64);
    const start = a.start ?? 0;
    fillPayload(buf, start);
    for (let i = 0; i < (a.count ?? 1); i++) {
      if (a.pattern !== false) fillPayload(buf, start + i);
      while (!ep!.trySend(a.to, buf)) await ep!.writable(); // as a streaming Node sender does (bench/peer.ts)
    }
    return { sent: a.count ?? 1 };
  },
  async trySend(a) {
    const buf = Buffer.alloc(64);
    fillPayload(buf, a.start ?? 0);
    return { accepted: ep!.trySend(a.to, buf) };
  },
  async sendForever(a) {
    const buf = Buffer.alloc(a.size ?? 64);
    let seq = 0;
    let reported = false;
    void (async () => {
      while (!stopSending) {
        for (let i = 0; i < 64; i++) {
          fillPayload(buf, seq);
          try {
            while (!ep!.trySend(a.to, buf)) await ep!.writable();
          } catch {
            return; // the endpoint closed (the proxy's drain)
          }
          seq++;
        }
        await new Promise((r) => setImmediate(r));
        if (!reported && seq >= a.report) {
          reported = true;
          emit({ event: 'progress', sent: seq });
        }
      }
    })();
    return {};
  },
  async stopSending() {
    stopSending = true;
    return {};
  },
  async request(a) {
    const timeout = a.timeout ?? 5000;
    if (a.size) {
      const payload = Buffer.alloc(a.size);
      fillPayload(payload, 7);
      const reply = await ep!.request(a.to, payload, { timeout });
      return { bytes: reply.length, intact: reply.equals(payload) };
    }
    return { reply: (await ep!.request(a.to, a.data ?? 'ping', { timeout })).toString('utf8') };
  },
  async hop(a) {
    const count = a.count ?? 1000;
    const warm = a.warmup ?? count;
    const payload = Buffer.alloc(64, 112);
    const times: number[] = [];
    for (let i = 0; i < warm + count; i++) {
      const t0 = process.hrtime.bigint();
      await ep!.request('~proxy', payload, { timeout: 5000 });
      if (i >= warm) times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    times.sort((x, y) => x - y);
    return { medianMicros: times[Math.floor(times.length / 2)] };
  },
  async collect(a) {
    const deadline = Date.now() + (a.timeout ?? 30_000);
    wanted = a.count ?? 0;
    while (received < wanted && !ended && Date.now() < deadline) {
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, Math.max(0, deadline - Date.now())).unref();
      });
    }
    wanted = 0;
    return { received, perSender: Object.fromEntries(perSender), bad };
  },
  async subscribe(a) {
    const sub = ep!.subscribe(a.subject, { policy: a.policy, maxQueuedBytes: a.maxQueuedBytes });
    const w: Watched = { sub, received: 0, next: new Map(), bad: [], log: [], waiters: [] };
    subs.set(a.key ?? a.subject, w);
    await sub.ready; // rejects with the proxy's refusal
    void watch(w).catch((err) => w.bad.push(`iterator threw ${(err as Error).message}`));
    return { id: sub.id };
  },
  async unsubscribe(a) {
    subs.get(a.key)!.sub.unsubscribe();
    return {};
  },
  async publish(a) {
    const names = String(a.subject ?? '').split(' ');
    const count = a.count ?? 1;
    const start = a.start ?? 0;
    for (let i = 0; i < count; i++) {
      const buf = Buffer.alloc(Math.max(8, a.size ?? 8));
      buf.writeUInt32LE(a.publisher ?? 0, 0);
      buf.writeUInt32LE(start + i, 4);
      await ep!.publish(names[i % names.length]!, buf);
    }
    return { published: count };
  },
  async publications(a) {
    const w = subs.get(a.key)!;
    const deadline = Date.now() + (a.timeout ?? 30_000);
    while (w.received < (a.count ?? 0) && Date.now() < deadline) {
      await new Promise<void>((r) => {
        w.waiters.push(r);
        setTimeout(r, Math.max(0, deadline - Date.now())).unref();
      });
    }
    return { received: w.received, dropped: w.sub.dropped, bad: w.bad, subjects: [...new Set(w.log.map((e) => e[0]))].sort(), log: w.log };
  },
  async stats() {
    const s = ep!.stats();
    return { messagesOut: s.messagesOut, messagesIn: s.messagesIn, cellsOut: s.cellsOut };
  },
};

emit({ event: 'ready' });
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, cmd, args } = JSON.parse(line) as { id: number; cmd: string; args?: Record<string, unknown> };
  const handler = commands[cmd];
  (handler ? handler(args ?? {}) : Promise.reject(Object.assign(new Error(`unknown command ${cmd}`), { code: 'SLOTLINK_ERR_CONFIG' }))).then(
    (result) => emit({ id, ok: true, result }),
    (err: { code?: string; message: string }) => emit({ id, ok: false, error: { code: err.code ?? null, message: err.message } }),
  );
}).on('close', () => process.exit(0));
