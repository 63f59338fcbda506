/**
 * `slotlink demo`: a proxy and several worker processes on this machine exchange
 * sequence-checked messages and requests for a few seconds; prints live progress, then
 * what happened. Cleans up everything it started.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intFlag, type Command } from './args.js';
import { startProxyProcess } from './proxy-process.js';

interface Report { ready?: boolean; sent: number; received: number; bad: number; rtts: number[]; doneSending?: boolean; final?: boolean }

export const demoCommand: Command = {
  name: 'demo',
  summary: 'see it work: a proxy and several processes exchanging messages on this machine',
  usage: `Usage: slotlink demo [--workers N] [--seconds S] [--size BYTES]

Starts a proxy and N worker processes (default 6) on this machine. Each streams
sequence-numbered messages to the next through its own shared-memory slot and times
requests to another, for S seconds (default 3). Prints progress, then totals, rates,
request round trips, order checks and the connections used.`,
  options: { workers: { type: 'string' }, seconds: { type: 'string' }, size: { type: 'string' } },
  async run(v) {
    const workers = intFlag(v, 'workers', 6, 2, 64);
    const seconds = intFlag(v, 'seconds', 3, 1, 600);
    const size = intFlag(v, 'size', 64, 8, 1 << 20);
    const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-demo-'));
    const socket = join(dir, 'proxy.sock');
    const proxy = await startProxyProcess(socket, ['--node', 'demo']);
    const children: ChildProcess[] = [];
    const reports: Report[] = [];
    const rtts: number[] = [];
    const workerPath = fileURLToPath(new URL('./demo-worker.js', import.meta.url));
    try {
      const exits: Array<Promise<void>> = [];
      let ready = 0;
      let allReady!: () => void;
      const everyoneReady = new Promise<void>((r) => (allReady = r));
      for (let i = 0; i < workers; i++) {
        reports.push({ sent: 0, received: 0, bad: 0, rtts: [] });
        const child = fork(workerPath, [JSON.stringify({ socket, index: i, workers, seconds, size })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
        child.on('message', (r: Report) => {
          if (r.ready) {
            if (++ready === workers) allReady();
            return;
          }
          rtts.push(...r.rtts);
          reports[i] = { ...r, doneSending: r.doneSending || reports[i]!.doneSending };
        });
      }
      await everyoneReady;
      for (const c of children) c.send({ cmd: 'go' });
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
      const status = await import('../client/registration.js').then((m) => m.requestStatus(socket)) as { slots: Array<{ cellsIn: number; messagesIn: number; doorbellsRung: number; doorbellsSaved: number }> };
      for (const c of children) c.send({ cmd: 'exit' });
      await Promise.all(exits);
      const t = total();
      rtts.sort((a, b) => a - b);
      const pct = (p: number) => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]!.toFixed(0) : 'n/a');
      const cells = status.slots.reduce((a, s) => a + s.cellsIn, 0);
      const msgsIn = status.slots.reduce((a, s) => a + s.messagesIn, 0);
      const rung = status.slots.reduce((a, s) => a + s.doorbellsRung, 0);
      const saved = status.slots.reduce((a, s) => a + s.doorbellsSaved, 0);
      process.stdout.write(
        [
          '',
          `slotlink demo: ${workers} processes, 1 proxy, ${size}-byte messages, ${seconds} s`,
          `  messages sent ${t.sent.toLocaleString()}, received ${t.received.toLocaleString()}, lost ${t.sent - t.received}, out of order or corrupt ${t.bad}`,
          `  throughput ${Math.round(t.received / elapsed).toLocaleString()} msg/s, ${((t.received * size) / elapsed / 1e6).toFixed(1)} MB/s (all workers together, ${elapsed.toFixed(1)} s incl. drain)`,
          `  requests ${rtts.length} (under full load), round trip median ${pct(0.5)} µs, p99 ${pct(0.99)} µs`,
          `  batching: ${msgsIn.toLocaleString()} messages in ${cells.toLocaleString()} cells (${(msgsIn / Math.max(1, cells)).toFixed(0)} per batch); doorbells rung ${rung.toLocaleString()}, saved ${saved.toLocaleString()}`,
          `  connections: ${workers} Unix-socket registrations (one per process, for liveness), 0 sockets on the data path`,
          '',
        ].join('\n'),
      );
      return t.bad === 0 && t.sent === t.received ? 0 : 1;
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await proxy.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
