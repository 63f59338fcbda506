/**
 * `slotlink demo`: a proxy and several worker processes on this machine exchange
 * sequence-checked messages and requests for a few seconds; prints live progress, then
 * what happened. Cleans up everything it started.
 */
import { fileURLToPath } from 'node:url';
import { IpcChild } from '../util/ipc-child.js';
import { intFlag, type Command } from './args.js';
import type { DemoConfig, DemoRole } from './demo-worker.js';
import { Mesh } from './mesh.js';

interface Report { sent: number; received: number; bad: number; unanswered?: number; rtts: number[]; doneSending?: boolean; final?: boolean }

/** Idle round trips: WARM_UP untimed requests, then TIMED timed ones. */
const WARM_UP = 2000;
const TIMED = 2000;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'see it work: two proxies and several processes exchanging messages on this machine',
  usage: `Usage: slotlink demo [--workers N] [--seconds S] [--size BYTES]

Starts two proxies ("alpha" and "beta", linked over loopback with a fresh shared secret)
and N worker processes (default 6), half on each. Each worker streams sequence-numbered
messages through its own shared-memory slot to the next worker, on the other proxy, for S
seconds (default 3). Meanwhile a requester on alpha, which streams nothing, sends a request
every millisecond to a responder on beta, which streams nothing either, and times each; once
the streams are over it times requests again, one at a time. Prints progress, then totals, rates, request round trips, order checks and
the connections used.`,
  options: { workers: { type: 'string' }, seconds: { type: 'string' }, size: { type: 'string' } },
  async run(v) {
    const workers = intFlag(v, 'workers', 6, 2, 64);
    const seconds = intFlag(v, 'seconds', 3, 1, 600);
    const size = intFlag(v, 'size', 64, 8, 1 << 20);
    // Two proxies linked over loopback with TLS 1.3 and a fresh shared secret.
    const mesh = await Mesh.start();
    const nodes = ['alpha', 'beta'] as const;
    const sockets = nodes.map((n) => mesh.socket(n));
    const reports: Report[] = [];
    const rtts: number[] = [];
    const workerPath = fileURLToPath(new URL('./demo-worker.js', import.meta.url));
    let children: IpcChild[] = [];
    try {
      // IpcChild.fork resolves once the process is registered. The responder comes first: the
      // requester asks it from the start. The requester is last.
      const fork = (role: DemoRole, index = 0) => IpcChild.fork(workerPath, [JSON.stringify({ sockets, nodes, index, workers, seconds, size, role } satisfies DemoConfig)]);
      children = [await fork('responder')];
      children.push(...(await Promise.all(Array.from({ length: workers }, (_, i) => fork('worker', i)))), await fork('requester'));
      await mesh.waitForRemoteName(nodes[0], 'responder');
      const requester = children[children.length - 1]!;
      children.forEach((c, i) => {
        reports.push({ sent: 0, received: 0, bad: 0, rtts: [] });
        c.child.on('message', (m: Report & { event?: string }) => {
          if (m.event !== 'report') return;
          rtts.push(...m.rtts);
          reports[i] = { ...m, doneSending: m.doneSending || reports[i]!.doneSending };
        });
      });
      await Promise.all(children.map((c) => c.call('go')));
      const t0 = Date.now();
      const total = () => reports.reduce((a, r) => ({ sent: a.sent + r.sent, received: a.received + r.received, bad: a.bad + r.bad }), { sent: 0, received: 0, bad: 0 });
      let last = 0;
      let lastAt = t0;
      const tty = process.stdout.isTTY;
      const progress = setInterval(() => {
        const t = total();
        const now = Date.now();
        const rate = ((t.received - last) / ((now - lastAt) / 1000)) | 0;
        last = t.received;
        lastAt = now;
        const line = `  ${((now - t0) / 1000).toFixed(1)} s  messages received ${t.received.toLocaleString()}  (${rate.toLocaleString()} msg/s)  order errors ${t.bad}`;
        process.stdout.write(tty ? `\r${line}   ` : `${line}\n`);
      }, tty ? 250 : 1000);
      // Wait until every worker stopped sending and every message sent has arrived.
      const settled = Date.now() + seconds * 1000 + 30_000;
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          const t = total();
          if (reports.every((r) => r.doneSending) && t.received === t.sent) {
            clearInterval(check);
            resolve();
          } else if (Date.now() > settled) {
            clearInterval(check);
            reject(new Error(`demo did not settle: sent ${t.sent}, received ${t.received}`));
          }
        }, 50);
      });
      const elapsed = (Date.now() - t0) / 1000;
      clearInterval(progress);
      if (tty) process.stdout.write('\n');
      const statuses = await Promise.all(nodes.map((n) => mesh.status(n)));
      const slots = statuses.flatMap((s) => s.slots);
      const link = statuses[0]!.links[0]!;
      // With the streams over, the same requests across the proxies, one at a time, after a
      // quiet second (right after a burst the kernel still places wake-ups as if busy) and
      // WARM_UP untimed ones (the first after a pause are slower on this kind of VM).
      await new Promise((r) => setTimeout(r, 1000));
      const quiet = (await requester.call<{ rtts: number[] }>('timeRequests', { n: WARM_UP + TIMED })).rtts.slice(WARM_UP).sort((a, b) => a - b);
      for (const last of await Promise.all(children.map((c) => c.call<Report>('exit')))) rtts.push(...last.rtts);
      const t = total();
      const unanswered = reports.reduce((a, r) => a + (r.unanswered ?? 0), 0);
      rtts.sort((a, b) => a - b);
      const pct = (p: number, xs = rtts) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(0) : 'n/a');
      const cells = slots.reduce((a, s) => a + s.cellsIn, 0);
      const msgsIn = slots.reduce((a, s) => a + s.messagesIn, 0);
      const rung = slots.reduce((a, s) => a + s.doorbellsRung, 0);
      const saved = slots.reduce((a, s) => a + s.doorbellsSaved, 0);
      process.stdout.write(
        [
          '',
          `slotlink demo: ${workers} streaming processes and a requester and responder that do not stream, on 2 proxies (alpha, beta), ${size}-byte messages, ${seconds} s; every stream and request crosses between the proxies`,
          `  messages sent ${t.sent.toLocaleString()}, received ${t.received.toLocaleString()}, lost ${t.sent - t.received}, out of order or corrupt ${t.bad}`,
          `  throughput ${Math.round(t.received / elapsed).toLocaleString()} msg/s, ${((t.received * size) / elapsed / 1e6).toFixed(1)} MB/s (all workers together, ${elapsed.toFixed(1)} s incl. drain)`,
          `  requests across the proxies, requester to responder, one at a time after the streams (${TIMED.toLocaleString()} after ${WARM_UP.toLocaleString()} untimed): round trip median ${pct(0.5, quiet)} µs, p99 ${pct(0.99, quiet)} µs`,
          `  the same requests during the streams (${rtts.length}, one every millisecond from a process that does not stream${unanswered ? `; ${unanswered} unanswered` : ''}): median ${pct(0.5)} µs, p99 ${pct(0.99)} µs: they share the link with the streams`,
          `  batching: ${msgsIn.toLocaleString()} messages in ${cells.toLocaleString()} cells (${(msgsIn / Math.max(1, cells)).toFixed(0)} per batch); doorbells rung ${rung.toLocaleString()}, saved ${saved.toLocaleString()}`,
          `  link alpha <-> beta: ${link.status.state}, ${link.messagesOut.toLocaleString()} messages carried, round trip ${link.rttMs === null ? 'n/a' : link.rttMs.toFixed(2) + ' ms'}, TLS 1.3 with a shared secret`,
          `  connections: 1 between the proxies (a connection per communicating pair would need ${workers + 1} here); processes use no sockets on the data path`,
          '',
        ].join('\n'),
      );
      return t.bad === 0 && t.sent === t.received ? 0 : 1;
    } finally {
      await Promise.all(children.map((c) => c.kill()));
      await mesh.close();
    }
  },
};
