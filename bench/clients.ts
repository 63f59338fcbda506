/**
 * The C and Python clients next to the Node client, through one slotlink proxy, in one run:
 * the local hop (a request to `~proxy`, answered by the process's own proxy) and one-way
 * throughput of 64 B messages from a client to a client of the same kind.
 *
 *   make -C clients/c all driver && node dist/bench/clients.js [--runs 3] [--hops 2000] [--quick]
 *
 * Each client is a real process driven over the conformance suite's line protocol
 * (bench/client-driver.ts); what is timed runs inside it (round trips) or spans from the
 * first send to the receiver's count (throughput). Senders batch as each client does for a
 * stream (C and Python: SLOTLINK_MORE / more=True, so cells commit as they fill; Node: a turn
 * of the event loop), send one payload over and over, and receivers only count. Prints medians over runs and ratios
 * against Node from the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startProxyProcess } from '../src/cli/proxy-process.js';
import { Driver, KINDS, type ClientKind } from './client-driver.js';
import { fmt, median } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, hops: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const quick = values.quick === true;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const hops = Number(values.hops ?? (quick ? 200 : 2000));
/** Messages per throughput measurement, sized so each takes roughly a second. */
const MESSAGES: Record<ClientKind, number> = quick ? { node: 20_000, c: 50_000, python: 10_000 } : { node: 1_000_000, c: 4_000_000, python: 400_000 };
const NAMES: Record<ClientKind, string> = { node: 'Node', c: 'C', python: 'Python' };

const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-bench-clients-'));
const proxy = await startProxyProcess(join(dir, 'proxy.sock'), ['--node', 'bench']);
const drivers: Driver[] = [];
try {
  const pairs = new Map<ClientKind, { tx: Driver; rx: Driver; received: number }>();
  for (const kind of KINDS) {
    const tx = await Driver.start(kind);
    const rx = await Driver.start(kind);
    drivers.push(tx, rx);
    await tx.call('connect', { socket: proxy.socket, name: `tx-${kind}`, consume: false });
    await rx.call('connect', { socket: proxy.socket, name: `rx-${kind}`, verify: false });
    pairs.set(kind, { tx, rx, received: 0 });
  }
  const hop: Record<ClientKind, number[]> = { node: [], c: [], python: [] };
  const rate: Record<ClientKind, number[]> = { node: [], c: [], python: [] };
  for (let r = 0; r < runs; r++) {
    // Contenders take turns going first.
    const order = r % 2 ? [...KINDS].reverse() : KINDS;
    for (const kind of order) {
      const p = pairs.get(kind)!;
      const n = MESSAGES[kind];
      await p.tx.call('send', { to: `rx-${kind}`, count: Math.min(n, 10_000), size: 64, pattern: false, batch: 0 }); // warm-up
      p.received += Math.min(n, 10_000);
      await p.rx.call('collect', { count: p.received });
      const t0 = process.hrtime.bigint();
      const sent = p.tx.call('send', { to: `rx-${kind}`, count: n, size: 64, pattern: false, batch: 0 });
      p.received += n;
      const got = await p.rx.call('collect', { count: p.received, timeout: 120_000 });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await sent;
      if (got.received < p.received) throw new Error(`${kind}: ${got.received} of ${p.received} messages arrived`);
      rate[kind].push(n / seconds);
    }
  }
  // Round trips after a quiet second, each warmed with as many untimed requests as it times (as bench/local.ts).
  await new Promise((res) => setTimeout(res, 1000));
  for (let r = 0; r < runs; r++) {
    for (const kind of r % 2 ? [...KINDS].reverse() : KINDS) {
      hop[kind].push((await pairs.get(kind)!.tx.call('hop', { count: hops, warmup: hops })).medianMicros);
    }
  }
  const rows = [
    { what: 'local hop to ~proxy, median (µs)', by: hop, lowerIsBetter: true },
    { what: 'one-way throughput, 64 B, same-kind pair (msg/s)', by: rate, lowerIsBetter: false },
  ];
  if (values.json) {
    process.stdout.write(JSON.stringify({ runs, hops, messages: MESSAGES, rows: rows.map((r) => ({ what: r.what, node: median(r.by.node), c: median(r.by.c), python: median(r.by.python) })) }, null, 2) + '\n');
  } else {
    const line = (cells: string[]) => '| ' + cells.join(' | ') + ' |';
    const vsNode = (row: (typeof rows)[0], kind: ClientKind) => {
      const x = median(row.by[kind]);
      const node = median(row.by.node);
      return `${(row.lowerIsBetter ? node / x : x / node).toFixed(2)}×`;
    };
    const out = [
      `clients through one proxy; medians of ${runs} run(s); ${hops} round trips; ${KINDS.map((k) => `${fmt(MESSAGES[k], 0)} messages (${NAMES[k]})`).join(', ')} per run`,
      '',
      line(['measure', 'Node', 'C', 'Python', 'C vs Node', 'Python vs Node']),
      line(['---', '---', '---', '---', '---', '---']),
      ...rows.map((r) => line([r.what, fmt(median(r.by.node)), fmt(median(r.by.c)), fmt(median(r.by.python)), vsNode(r, 'c'), vsNode(r, 'python')])),
      '',
      'vs Node > 1 means better than the Node client (lower latency or higher throughput).',
    ];
    process.stdout.write(out.join('\n') + '\n');
  }
} finally {
  await Promise.all(drivers.map((d) => d.kill()));
  await proxy.stop();
  rmSync(dir, { recursive: true, force: true });
}
