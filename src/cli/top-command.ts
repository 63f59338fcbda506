/** `slotlink top`: a live view of the proxy's slots and links with rates, refreshed in place. */
import { requestStatus } from '../client/registration.js';
import { defaultSocketPath } from '../contract/defaults.js';
import type { ProxyStats } from '../proxy/stats.js';
import { intFlag, type Command } from './args.js';
import { table } from './table.js';

function rate(now: number, before: number | undefined, seconds: number): string {
  if (before === undefined || seconds <= 0) return '-';
  const r = (now - before) / seconds;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}

/** One screen: the snapshot, with rates against the previous one. */
export function renderTop(s: ProxyStats, prev: ProxyStats | null, seconds: number): string {
  const before = new Map(prev?.slots.map((x) => [x.address, x]) ?? []);
  const lines = [
    `slotlink top — node ${s.node}, pid ${s.pid}, ${s.slots.length} slots, ${s.links.length} links, up ${(s.uptimeMs / 1000).toFixed(0)} s`,
    '',
    ...table([
      ['SLOT', 'MSG/S IN', 'MSG/S OUT', 'MB/S IN', 'MB/S OUT', 'BATCH/S', 'QUEUED', 'PAUSED', 'BP WAITS'],
      ...s.slots.map((x) => {
        const p = before.get(x.address);
        return [x.address, rate(x.messagesIn, p?.messagesIn, seconds), rate(x.messagesOut, p?.messagesOut, seconds), rate(x.bytesIn / 1e6, p && p.bytesIn / 1e6, seconds), rate(x.bytesOut / 1e6, p && p.bytesOut / 1e6, seconds), rate(x.cellsIn, p?.cellsIn, seconds), String(x.queuedBytes), x.readingPaused ? 'yes' : '', String(x.backPressureWaits)];
      }),
    ]),
  ];
  if (s.links.length > 0) {
    const lb = new Map(prev?.links.map((x) => [x.peer, x]) ?? []);
    lines.push(
      '',
      ...table([
        ['PEER', 'STATE', 'RTT MS', 'MSG/S OUT', 'MSG/S IN', 'IN FLIGHT', 'UNACKED B', 'RESENT', 'RECONNECTS', 'CREDIT STALLS'],
        ...s.links.map((x) => {
          const p = lb.get(x.peer);
          return [x.peer, x.status.state, x.rttMs === null ? '-' : x.rttMs.toFixed(2), rate(x.messagesOut, p?.messagesOut, seconds), rate(x.messagesIn, p?.messagesIn, seconds), String(x.framesInFlight), String(x.unackedBytes), String(x.retransmittedFrames), String(x.reconnects), String(x.creditStalls)];
        }),
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

export const topCommand: Command = {
  name: 'top',
  summary: 'live view of slots and links with rates per second',
  usage: `Usage: slotlink top [--socket PATH] [--interval MS] [--iterations N]

Shows the proxy's slots (messages and MB per second each way, batches, queued bytes,
back pressure) and links (state, round trip, rates, frames in flight, unacknowledged
bytes, resends, reconnects, credit stalls), refreshed in place every MS (default 1000).
Exits after N screens when --iterations is given, else on Ctrl-C.`,
  options: { socket: { type: 'string' }, interval: { type: 'string' }, iterations: { type: 'string' } },
  async run(v) {
    const socket = String(v.socket ?? defaultSocketPath());
    const interval = intFlag(v, 'interval', 1000, 50);
    const iterations = intFlag(v, 'iterations', 0, 0);
    const tty = process.stdout.isTTY;
    let prev: ProxyStats | null = null;
    let prevAt = 0;
    let stop = false;
    process.once('SIGINT', () => (stop = true));
    for (let i = 0; !stop && (iterations === 0 || i < iterations); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, interval));
      const s = (await requestStatus(socket)) as ProxyStats;
      const at = Date.now();
      const screen = renderTop(s, prev, (at - prevAt) / 1000);
      process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}` : `${screen}\n`);
      prev = s;
      prevAt = at;
    }
    return 0;
  },
};
