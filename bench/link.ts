/**
 * Across two proxies: P sender processes on "alpha", P receivers on "beta", each pair
 * streaming; next to the same processes with each pair on its own direct TCP connection
 * (64 KiB writes). Plus request round trips for one pair. Medians over runs.
 *
 *   node dist/bench/link.js [--runs 3] [--pairs 1,4,16] [--messages 400000] [--quick] [--json]
 *
 * The proxies authenticate and encrypt with a shared secret (TLS 1.3), as in production;
 * the direct TCP connections are plaintext, which favours them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startProxyProcess } from '../src/cli/proxy-process.js';
import { IpcChild } from '../src/util/ipc-child.js';
import { fmt, median, percentile } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, pairs: { type: 'string' }, messages: { type: 'string' }, rtt: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const quick = values.quick === true;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const pairCounts = (values.pairs ?? (quick ? '1,4' : '1,4,16')).split(',').map(Number);
const total64 = Number(values.messages ?? (quick ? 20_000 : 400_000));
const rttN = Number(values.rtt ?? (quick ? 200 : 2000));
const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));

const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-linkbench-'));
writeFileSync(join(dir, 'secret'), randomBytes(32));
const sec = ['--secret-file', join(dir, 'secret')];
const beta = await startProxyProcess(join(dir, 'beta.sock'), ['--node', 'beta', '--listen', '127.0.0.1:0', ...sec]);
const betaPort = JSON.parse(beta.logs.find((l) => l.includes('"proxy listening"'))!).linkPort;
const alpha = await startProxyProcess(join(dir, 'alpha.sock'), ['--node', 'alpha', '--peer', `beta=127.0.0.1:${betaPort}`, ...sec]);
await alpha.waitForLog((l) => l.includes('"link up"'));
const maxPairs = Math.max(...pairCounts);
const senders: IpcChild[] = [];
const receivers: IpcChild[] = [];
try {
  for (let i = 0; i < maxPairs; i++) {
    senders.push(await IpcChild.fork(PEER));
    receivers.push(await IpcChild.fork(PEER));
    await senders[i]!.call('connect', { socket: join(dir, 'alpha.sock'), name: `s${i}` });
    await receivers[i]!.call('connect', { socket: join(dir, 'beta.sock'), name: `r${i}` });
  }
  const ports = await Promise.all(receivers.map((r) => r.call('listen', {})));

  /** Aggregate msg/s of P pairs streaming n messages each. */
  const aggregate = async (p: number, n: number, start: (i: number) => Promise<{ start: number }>) => {
    await Promise.all(receivers.slice(0, p).map((r) => r.call('expect', { n })));
    const arrivals = receivers.slice(0, p).map((r) => r.call('arrived'));
    const starts = await Promise.all(Array.from({ length: p }, (_, i) => start(i)));
    const ends = await Promise.all(arrivals);
    return (p * n) / (Math.max(...ends.map((e) => e.at)) - Math.min(...starts.map((s) => s.start))) * 1e6;
  };
  type Cell = { slotlink: number[]; tcp: number[] };
  const rows = new Map<string, Cell>();
  const add = (key: string, which: keyof Cell, v: number) => {
    if (!rows.has(key)) rows.set(key, { slotlink: [], tcp: [] });
    rows.get(key)![which].push(v);
  };
  for (let run = 0; run < runs; run++) {
    for (const p of pairCounts) {
      for (const size of [64, 4096]) {
        const n = Math.max(500, Math.floor((size === 64 ? total64 : total64 / 8) / p));
        const key = `${p} pair${p > 1 ? 's' : ''}, ${size === 64 ? '64 B' : '4 KiB'}`;
        add(key, 'slotlink', await aggregate(p, n, (i) => senders[i]!.call('slotlinkStream', { to: `r${i}@beta`, n, size })));
        await Promise.all(senders.slice(0, p).map((s, i) => s.call('dial', ports[i])));
        add(key, 'tcp', await aggregate(p, n, (i) => senders[i]!.call('socketStream', { n, size })));
      }
    }
    const sl = (await senders[0]!.call('slotlinkRtt', { to: 'r0@beta', n: rttN, size: 64 })).rtts as number[];
    await senders[0]!.call('dial', ports[0]);
    const tc = (await senders[0]!.call('socketRtt', { n: rttN, size: 64 })).rtts as number[];
    add('request round trip, median (µs)', 'slotlink', median(sl));
    add('request round trip, median (µs)', 'tcp', median(tc));
    add('request round trip, p99 (µs)', 'slotlink', percentile(sl, 0.99));
    add('request round trip, p99 (µs)', 'tcp', percentile(tc, 0.99));
  }
  const status = JSON.parse(JSON.stringify(await import('../src/client/registration.js').then((m) => m.requestStatus(join(dir, 'alpha.sock')))));
  const result = [...rows].map(([what, c]) => ({ what, slotlink: median(c.slotlink), tcp: median(c.tcp) }));
  if (values.json) process.stdout.write(JSON.stringify({ runs, pairs: pairCounts, result }, null, 2) + '\n');
  else {
    const line = (cells: string[]) => '| ' + cells.join(' | ') + ' |';
    process.stdout.write(
      [
        `across two proxies (TLS 1.3 PSK) vs. a direct TCP connection per pair; medians of ${runs} run(s); ${total64} messages of 64 B (${total64 / 8} of 4 KiB) per measurement, split over the pairs`,
        '',
        line(['measure', 'slotlink', 'direct TCP per pair', 'slotlink / TCP']),
        line(['---', '---', '---', '---']),
        ...result.map((r) => {
          const rtt = r.what.startsWith('request');
          const unit = rtt ? '' : ' msg/s';
          const mb = r.what.includes('4 KiB') ? ` (${((r.slotlink * 4096) / 1e6).toFixed(0)} vs ${((r.tcp * 4096) / 1e6).toFixed(0)} MB/s)` : '';
          return line([r.what, fmt(r.slotlink) + unit, fmt(r.tcp) + unit + mb, `${(rtt ? r.tcp / r.slotlink : r.slotlink / r.tcp).toFixed(2)}× ${rtt ? '(speed)' : ''}`]);
        }),
        '',
        `connections between the hosts: slotlink 1 (alpha's links: ${status.links.length}), direct TCP ${maxPairs} (one per pair; P senders × M receivers in general)`,
      ].join('\n') + '\n',
    );
  }
  await Promise.all([...senders, ...receivers].map((c) => c.call('close')));
} finally {
  await Promise.all([...senders, ...receivers].map((c) => c.kill()));
  await Promise.all([alpha.stop(), beta.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
