/**
 * The local hop, measured: two processes on one host through one slotlink proxy, next to
 * the same two processes over a Unix socket and over TCP loopback, in one run.
 *
 *   node dist/bench/local.js [--runs 5] [--rtt 2000] [--messages 200000] [--quick]
 *
 * Prints medians over runs: request round trip (median and p99 of each run's samples) and
 * one-way throughput at 64 B and 4 KiB, with ratios slotlink / alternative.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startProxyProcess } from '../src/cli/proxy-process.js';
import { IpcChild } from '../src/util/ipc-child.js';
import { fmt, median, percentile } from './stats.js';
import { streamRate } from './stream-rate.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, rtt: { type: 'string' }, messages: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const quick = values.quick === true;
const runs = Number(values.runs ?? (quick ? 1 : 5));
const rttN = Number(values.rtt ?? (quick ? 200 : 2000));
const msgN = Number(values.messages ?? (quick ? 5000 : 200_000));
const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));

const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-bench-'));
const proxy = await startProxyProcess(join(dir, 'proxy.sock'), ['--node', 'bench']);
const a = await IpcChild.fork(PEER);
const b = await IpcChild.fork(PEER);
try {
  await a.call('connect', { socket: proxy.socket, name: 'bench-a' });
  await b.call('connect', { socket: proxy.socket, name: 'bench-b' });
  const unix = await b.call('listen', { path: join(dir, 'peer.sock') });
  const tcp = await b.call('listen', {});

  type Row = { what: string; unit: string; slotlink: number[]; unix: number[]; tcp: number[]; higherIsBetter: boolean };
  const rows: Row[] = [
    { what: 'request round trip, median (64 B)', unit: 'µs', slotlink: [], unix: [], tcp: [], higherIsBetter: false },
    { what: 'request round trip, p99 (64 B)', unit: 'µs', slotlink: [], unix: [], tcp: [], higherIsBetter: false },
    { what: 'one-way throughput, 64 B', unit: 'msg/s', slotlink: [], unix: [], tcp: [], higherIsBetter: true },
    { what: 'one-way throughput, 4 KiB', unit: 'msg/s', slotlink: [], unix: [], tcp: [], higherIsBetter: true },
  ];
  const stream = (n: number, run: () => Promise<{ start: number }>) => streamRate([b], n, run);
  // Alternate the order each run so no contender always goes first on a warm cache.
  const inTurn = (r: number) => {
    const contenders = [
      { key: 'slotlink' as const, rtt: (n: number) => a.call('slotlinkRtt', { to: 'bench-b', n, size: 64 }), stream: (size: number, n: number) => stream(n, () => a.call('slotlinkStream', { to: 'bench-b', n, size })) },
      { key: 'unix' as const, rtt: async (n: number) => (await a.call('dial', unix), a.call('socketRtt', { n, size: 64 })), stream: async (size: number, n: number) => (await a.call('dial', unix), stream(n, () => a.call('socketStream', { n, size }))) },
      { key: 'tcp' as const, rtt: async (n: number) => (await a.call('dial', tcp), a.call('socketRtt', { n, size: 64 })), stream: async (size: number, n: number) => (await a.call('dial', tcp), stream(n, () => a.call('socketStream', { n, size }))) },
    ];
    return r % 2 ? contenders.reverse() : contenders;
  };
  for (let r = 0; r < runs; r++) {
    for (const c of inTurn(r)) {
      rows[2]![c.key].push(await c.stream(64, msgN));
      rows[3]![c.key].push(await c.stream(4096, Math.max(1000, msgN >> 3)));
    }
  }
  // Round trips after a quiet second (right after streaming, wake-ups are placed badly for
  // ~0.5 s), each warmed right before it is timed: as in bench/link.ts.
  await new Promise((res) => setTimeout(res, 1000));
  for (let r = 0; r < runs; r++) {
    for (const c of inTurn(r)) {
      await c.rtt(rttN); // as many untimed as timed
      const { rtts } = await c.rtt(rttN);
      rows[0]![c.key].push(median(rtts));
      rows[1]![c.key].push(percentile(rtts, 0.99));
    }
  }
  const med = (xs: number[]) => median(xs);
  const ratio = (row: Row, alt: 'unix' | 'tcp') => (row.higherIsBetter ? med(row.slotlink) / med(row[alt]) : med(row[alt]) / med(row.slotlink));
  if (values.json) {
    process.stdout.write(JSON.stringify({ runs, rttSamples: rttN, messages: msgN, rows: rows.map((r) => ({ what: r.what, unit: r.unit, slotlink: med(r.slotlink), unix: med(r.unix), tcp: med(r.tcp) })) }, null, 2) + '\n');
  } else {
    const line = (cells: string[]) => '| ' + cells.join(' | ') + ' |';
    const out = [
      `local hop: 2 processes, one proxy; medians of ${runs} run(s); ${rttN} round trips and ${msgN} messages (64 B) / ${Math.max(1000, msgN >> 3)} (4 KiB) per run`,
      '',
      line(['measure', 'slotlink', 'Unix socket', 'TCP loopback', 'speed-up vs Unix', 'speed-up vs TCP']),
      line(['---', '---', '---', '---', '---', '---']),
      ...rows.map((r) => line([`${r.what} (${r.unit})`, fmt(med(r.slotlink)), fmt(med(r.unix)), fmt(med(r.tcp)), `${ratio(r, 'unix').toFixed(2)}×`, `${ratio(r, 'tcp').toFixed(2)}×`])),
      '',
      'speed-up > 1 means slotlink is better (lower latency or higher throughput).',
      `MB/s at 4 KiB: slotlink ${((med(rows[3]!.slotlink) * 4096) / 1e6).toFixed(0)}, Unix ${((med(rows[3]!.unix) * 4096) / 1e6).toFixed(0)}, TCP ${((med(rows[3]!.tcp) * 4096) / 1e6).toFixed(0)}`,
    ];
    process.stdout.write(out.join('\n') + '\n');
  }
  await Promise.all([a.call('close'), b.call('close')]);
} finally {
  await Promise.all([a.kill(), b.kill()]);
  await proxy.stop();
  rmSync(dir, { recursive: true, force: true });
}
