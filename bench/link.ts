/**
 * Across two proxies: P sender processes on "alpha", P receivers on "beta", each pair
 * streaming; next to the same processes with each pair on its own direct TCP connection
 * (64 KiB writes), through a local nats-server (npm `nats`), and over ZeroMQ PUSH/PULL and
 * REQ/REP (npm `zeromq`). Plus request round trips for one pair. Medians over runs.
 * A missing alternative (no nats-server on PATH, zeromq not installed) is reported as skipped.
 *
 *   node dist/bench/link.js [--runs 3] [--pairs 1,4,16] [--messages 400000] [--quick] [--json]
 *
 * The proxies authenticate and encrypt with a shared secret (TLS 1.3), as in production;
 * the alternatives run plaintext, which favours them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startProxyProcess } from '../src/cli/proxy-process.js';
import { IpcChild } from '../src/util/ipc-child.js';
import { fmt, median, percentile } from './stats.js';

export interface LinkBenchOptions {
  runs?: string;
  pairs?: string;
  messages?: string;
  rtt?: string;
  quick?: boolean;
  json?: boolean;
}

/** Runs the benchmark and prints its table (or JSON) on stdout. */
export async function runLinkBench(values: LinkBenchOptions): Promise<void> {
const quick = values.quick === true;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const pairCounts = (values.pairs ?? (quick ? '1,4' : '1,4,16')).split(',').map(Number);
const total64 = Number(values.messages ?? (quick ? 20_000 : 400_000));
const rttN = Number(values.rtt ?? (quick ? 200 : 2000));
const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));

const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-linkbench-'));
const skipped: string[] = [];
let natsServer: ChildProcess | null = null;
let natsUrl: string | null = null;
if (spawnSync('nats-server', ['--version']).status === 0) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  natsServer = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    natsServer!.stderr!.on('data', (d: Buffer) => ((log += d), log.includes('Server is ready') && resolve()));
    natsServer!.once('exit', () => reject(new Error(`nats-server exited: ${log}`)));
  });
  natsUrl = `nats://127.0.0.1:${port}`;
} else skipped.push('NATS (no nats-server on PATH: apt-get install nats-server)');
let zmqOk = true;
try {
  await import('zeromq');
} catch {
  zmqOk = false;
  skipped.push('ZeroMQ (npm package zeromq not installed)');
}
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
  if (natsUrl) {
    for (let i = 0; i < maxPairs; i++) {
      await receivers[i]!.call('natsConnect', { url: natsUrl, subject: `r${i}` });
      await senders[i]!.call('natsConnect', { url: natsUrl, subject: `s${i}` });
    }
  }
  if (zmqOk) {
    for (let i = 0; i < maxPairs; i++) await senders[i]!.call('zmqConnect', await receivers[i]!.call('zmqBind'));
  }

  /** Aggregate msg/s of P pairs streaming n messages each. */
  const aggregate = async (p: number, n: number, start: (i: number) => Promise<{ start: number }>) => {
    await Promise.all(receivers.slice(0, p).map((r) => r.call('expect', { n })));
    const arrivals = receivers.slice(0, p).map((r) => r.call('arrived'));
    const starts = await Promise.all(Array.from({ length: p }, (_, i) => start(i)));
    const ends = await Promise.all(arrivals);
    return (p * n) / (Math.max(...ends.map((e) => e.at)) - Math.min(...starts.map((s) => s.start))) * 1e6;
  };
  type Key = 'slotlink' | 'tcp' | 'nats' | 'zmq';
  interface Contender { key: Key; label: string; stream(i: number, n: number, size: number): Promise<{ start: number }>; rtt(n: number): Promise<{ rtts: number[] }>; prepare?(p: number): Promise<unknown> }
  const contenders: Contender[] = [
    { key: 'slotlink', label: 'slotlink', stream: (i, n, size) => senders[i]!.call('slotlinkStream', { to: `r${i}@beta`, n, size }), rtt: (n) => senders[0]!.call('slotlinkRtt', { to: 'r0@beta', n, size: 64 }) },
    {
      key: 'tcp',
      label: 'direct TCP',
      prepare: (p) => Promise.all(senders.slice(0, p).map((s, i) => s.call('dial', ports[i]))),
      stream: (i, n, size) => senders[i]!.call('socketStream', { n, size }),
      rtt: async (n) => (await senders[0]!.call('dial', ports[0]), senders[0]!.call('socketRtt', { n, size: 64 })),
    },
  ];
  if (natsUrl) contenders.push({ key: 'nats', label: 'NATS', stream: (i, n, size) => senders[i]!.call('natsStream', { subject: `r${i}`, n, size }), rtt: (n) => senders[0]!.call('natsRtt', { subject: 'r0', n, size: 64 }) });
  if (zmqOk) contenders.push({ key: 'zmq', label: 'ZeroMQ', stream: (i, n, size) => senders[i]!.call('zmqStream', { n, size }), rtt: (n) => senders[0]!.call('zmqRtt', { n, size: 64 }) });

  const rows = new Map<string, Partial<Record<Key, number[]>>>();
  const add = (what: string, key: Key, v: number) => {
    if (!rows.has(what)) rows.set(what, {});
    (rows.get(what)![key] ??= []).push(v);
  };
  for (let run = 0; run < runs; run++) {
    for (const p of pairCounts) {
      for (const size of [64, 4096]) {
        const n = Math.max(500, Math.floor((size === 64 ? total64 : total64 / 8) / p));
        const what = `${p} pair${p > 1 ? 's' : ''}, ${size === 64 ? '64 B' : '4 KiB'} (msg/s)`;
        for (const c of contenders) {
          await c.prepare?.(p);
          add(what, c.key, await aggregate(p, n, (i) => c.stream(i, n, size)));
        }
      }
    }
    for (const c of contenders) {
      const { rtts } = await c.rtt(rttN);
      add('request round trip, median (µs)', c.key, median(rtts));
      add('request round trip, p99 (µs)', c.key, percentile(rtts, 0.99));
    }
  }
  const status = JSON.parse(JSON.stringify(await import('../src/client/registration.js').then((m) => m.requestStatus(join(dir, 'alpha.sock')))));
  const result = [...rows].map(([what, r]) => ({ what, ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v!)])) })) as Array<{ what: string } & Partial<Record<Key, number>>>;
  const connections = { slotlink: 1, tcp: maxPairs, nats: natsUrl ? 2 * maxPairs : null, zmq: zmqOk ? maxPairs : null };
  if (values.json) process.stdout.write(JSON.stringify({ runs, pairs: pairCounts, result, connections, skipped }, null, 2) + '\n');
  else {
    const alts = contenders.filter((c) => c.key !== 'slotlink');
    const line = (cells: string[]) => '| ' + cells.join(' | ') + ' |';
    const ratio = (what: string, sl: number, alt: number | undefined) => (alt === undefined ? '-' : `${(what.startsWith('request') ? alt / sl : sl / alt).toFixed(2)}×`);
    process.stdout.write(
      [
        `slotlink across two proxies (TLS 1.3 PSK) vs. alternatives between the same processes; medians of ${runs} run(s); ${total64} messages of 64 B (${total64 / 8} of 4 KiB) per measurement, split over the pairs`,
        '',
        line(['measure', 'slotlink', ...alts.map((a) => a.label), ...alts.map((a) => `slotlink vs ${a.label}`)]),
        line(Array(2 + 2 * alts.length).fill('---')),
        ...result.map((r) => line([r.what, fmt(r.slotlink!), ...alts.map((a) => fmt(r[a.key] ?? NaN)), ...alts.map((a) => ratio(r.what, r.slotlink!, r[a.key]))])),
        '',
        'slotlink vs X > 1 means slotlink is better (more msg/s, or a shorter round trip).',
        `connections opened for these ${maxPairs} sender→receiver pairs: slotlink 1 (between the proxies; alpha's links: ${status.links.length}), direct TCP ${maxPairs}${natsUrl ? `, NATS ${2 * maxPairs} (every process to the server)` : ''}${zmqOk ? `, ZeroMQ ${maxPairs}` : ''}; for P senders each talking to M receivers: slotlink 1, direct TCP and ZeroMQ P×M, NATS P+M`,
        ...(skipped.length ? ['', `skipped: ${skipped.join('; ')}`] : []),
      ].join('\n') + '\n',
    );
  }
  await Promise.all([...senders, ...receivers].map((c) => c.call('close')));
} finally {
  await Promise.all([...senders, ...receivers].map((c) => c.kill()));
  await Promise.all([alpha.stop(), beta.stop()]);
  natsServer?.kill();
  rmSync(dir, { recursive: true, force: true });
}
}

const parseOptions = { runs: { type: 'string' }, pairs: { type: 'string' }, messages: { type: 'string' }, rtt: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } } as const;
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runLinkBench(parseArgs({ options: parseOptions }).values);
