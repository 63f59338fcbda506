/**
 * One process of `slotlink demo`. A streaming worker registers, streams sequence-numbered
 * messages to the next worker, checks the order and content of all it receives, and reports
 * to the demo over IPC. The requester streams nothing: it times requests to the responder (on
 * the other proxy, streaming nothing either) while the workers stream, and again after.
 */
import { connect } from '../client/connect.js';
import { emitIpc, serveIpc } from '../util/ipc-child.js';

export type DemoRole = 'worker' | 'requester' | 'responder';
export interface DemoConfig { sockets: string[]; nodes: readonly string[]; index: number; workers: number; seconds: number; size: number; role: DemoRole }
const cfg = JSON.parse(process.argv[2]!) as DemoConfig;

// Workers alternate between the proxies; each streams to the next worker (on the other
// proxy). The requester is on the first proxy, the responder on the second.
const proxyOf = (i: number) => i % cfg.sockets.length;
const address = (i: number) => `worker-${i % cfg.workers}@${cfg.nodes[proxyOf(i % cfg.workers)]}`;
const name = cfg.role === 'worker' ? `worker-${cfg.index}` : cfg.role;
const ep = await connect({ name, socket: cfg.sockets[cfg.role === 'worker' ? proxyOf(cfg.index) : cfg.role === 'requester' ? 0 : 1] });
ep.respond((m) => m.data);
const responder = `responder@${cfg.nodes[1]}`;

let sent = 0;
let received = 0;
let bad = 0;
/** The requester's requests that failed (no answer within the timeout). */
let unanswered = 0;
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

// Start together: every process is registered (serveIpc says "ready") before anyone sends.
let go!: () => void;
const started = new Promise<void>((r) => (go = r));
const snapshot = () => ({ sent, received, bad, unanswered, rtts: rtts.splice(0) });
serveIpc({
  go: () => (go(), {}),
  /** Times `n` requests to the responder one after another (used once the streams have stopped). */
  timeRequests: async (a: { n: number }) => {
    const idle: number[] = [];
    for (let i = 0; i < a.n; i++) idle.push(await timedRequest(responder));
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

if (cfg.role === 'requester') {
  // A request every millisecond for as long as the workers stream, each timed on its own
  // without waiting for earlier answers (a slow spell is sampled as often as a quick one).
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < deadline) {
    const one: Promise<void> = timedRequest(responder)
      .then((rtt) => void rtts.push(rtt), () => void unanswered++)
      .finally(() => inFlight.delete(one));
    inFlight.add(one);
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
} else if (cfg.role === 'worker') {
  const target = address(cfg.index + 1);
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
}
emitIpc('report', { ...snapshot(), doneSending: true });
