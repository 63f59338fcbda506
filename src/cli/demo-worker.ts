/**
 * One process of `slotlink demo`: registers, streams sequence-numbered messages to the
 * next worker, answers requests, times requests to another worker, checks the order and
 * content of all it receives, and reports to the demo over IPC.
 */
import { connect } from '../client/connect.js';
import { emitIpc, serveIpc } from '../util/ipc-child.js';

interface Config { sockets: string[]; nodes: string[]; index: number; workers: number; seconds: number; size: number }
const cfg = JSON.parse(process.argv[2]!) as Config;

// Workers alternate between the proxies; each streams to the next worker (on the other
// proxy) and times requests to the one after (on its own).
const proxyOf = (i: number) => i % cfg.sockets.length;
const address = (i: number) => `worker-${i % cfg.workers}@${cfg.nodes[proxyOf(i % cfg.workers)]}`;
const ep = await connect({ name: `worker-${cfg.index}`, socket: cfg.sockets[proxyOf(cfg.index)] });
ep.respond((m) => m.data);
const target = address(cfg.index + 1);
const asked = address(cfg.index + 2);

let sent = 0;
let received = 0;
let bad = 0;
const expected = new Map<string, number>();
const rtts: number[] = [];

void (async () => {
  for await (const m of ep) {
    const seq = m.data.readUInt32LE(0);
    const want = expected.get(m.from) ?? 0;
    if (seq !== want || m.data.length !== cfg.size || m.data[m.data.length - 1] !== (seq & 0xff)) bad++;
    expected.set(m.from, seq + 1);
    received++;
  }
})();

/** One request's round trip in µs. */
async function timedRequest(to: string): Promise<number> {
  const t = process.hrtime.bigint();
  await ep.request(to, 'ping', { timeout: 5000 });
  return Number(process.hrtime.bigint() - t) / 1000;
}

// Start together: every worker is registered (serveIpc says "ready") before anyone sends.
let go!: () => void;
const started = new Promise<void>((r) => (go = r));
const snapshot = () => ({ sent, received, bad, rtts: rtts.splice(0) });
serveIpc({
  go: () => (go(), {}),
  /** Times `n` requests to `to` one after another (used once the streams have stopped). */
  timeRequests: async (a: { to: string; n: number }) => {
    const idle: number[] = [];
    for (let i = 0; i < a.n; i++) idle.push(await timedRequest(a.to));
    return { rtts: idle };
  },
  /** Closes the endpoint and returns the last counts; the demo then ends the process. */
  exit: async () => {
    clearInterval(report);
    const last = snapshot();
    await ep.close();
    return last;
  },
});
await started;
const report = setInterval(() => emitIpc('report', snapshot()), 200);
const deadline = Date.now() + cfg.seconds * 1000;
const requests = (async () => {
  while (Date.now() < deadline) {
    rtts.push(await timedRequest(asked));
    await new Promise((r) => setTimeout(r, 5));
  }
})();

const buf = Buffer.alloc(cfg.size);
while (Date.now() < deadline) {
  for (let i = 0; i < 256; i++) {
    buf.writeUInt32LE(sent, 0);
    buf[buf.length - 1] = sent & 0xff;
    while (!ep.trySend(target, buf)) await ep.writable();
    sent++;
  }
  await new Promise((r) => setImmediate(r));
}
await requests;
emitIpc('report', { ...snapshot(), doneSending: true });
