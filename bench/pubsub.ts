/**
 * Publish/subscribe (issue 12): one publisher to six subscribers on two hosts, simulated on
 * loopback (proxies "alpha" and "beta", plaintext). The publisher and three subscribers
 * register on alpha, three subscribers on beta; every process its own. The publisher
 * publishes a fixed count of 64 B or 4 KiB publications to one subject as fast as flow
 * control allows; every subscriber subscribed to it counts them and checks their order.
 * NATS does the same with the same processes through one local nats-server (1 publisher + 6
 * subscriber connections: a NATS cluster of two servers would be another setup).
 *
 * Figures per measurement: delivered messages per second = all six subscribers' receipts
 * over the time from the first publish to the last subscriber's last publication; the
 * publisher's rate (until its last publication was handed over: slotlink, in its slot; NATS,
 * flushed to the server). For slotlink, the proxies' `publications` counters show how many
 * times each publication crossed the link. Medians across runs; contenders take turns going
 * first; then issue 12's target, judged on the figures of this run.
 *
 *   node dist/bench/pubsub.js [--runs 3] [--messages 800000] [--sizes 64,4096] [--quick] [--json]
 *                             [--contenders slotlink,nats] [--profile DIR] [--proxy-args="--cells 16 ..."]
 *
 * --messages: publications per 64 B measurement (each is delivered six times); larger sizes
 * publish that many × 64 / size, at least a tenth as many.
 * --profile DIR: a V8 CPU profile of both proxies and every publisher/subscriber process.
 * --proxy-args: more flags for both proxies (to try a setting; the table does not say so).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Mesh, type Side } from '../src/cli/mesh.js';
import type { ProxyStats } from '../src/proxy/stats.js';
import { IpcChild } from '../src/util/ipc-child.js';
import { atMost, inTurn, mdRow, startAlternatives, targetLine, type Target } from './alternatives.js';
import type { Kind } from './pubsub-peer.js';
import { schedule } from './schedule.js';
import { fmt, median } from './stats.js';

export interface PubsubBenchOptions {
  runs?: string;
  messages?: string;
  sizes?: string;
  contenders?: string;
  profile?: string;
  'proxy-args'?: string;
  quick?: boolean;
  json?: boolean;
}

export type ContenderKey = Kind;
export const CONTENDERS: Record<ContenderKey, string> = { slotlink: 'slotlink', nats: 'NATS' };
export const DEFAULT_SIZES = [64, 4096] as const;
export const SUBJECT = 'bench.prices.eu';
/** The subscribers, three on each host; the publisher is on alpha. */
export const SUBSCRIBERS: ReadonlyArray<{ name: string; side: Side }> = [
  { name: 'sub-alpha-0', side: 'alpha' },
  { name: 'sub-alpha-1', side: 'alpha' },
  { name: 'sub-alpha-2', side: 'alpha' },
  { name: 'sub-beta-0', side: 'beta' },
  { name: 'sub-beta-1', side: 'beta' },
  { name: 'sub-beta-2', side: 'beta' },
];
const PUBLISHER = { name: 'publisher', side: 'alpha' as Side };
export const sizeLabel = (size: number): string => (size < 1024 ? `${size} B` : `${size / 1024} KiB`);

/** Where the CPU went during a measurement: each group's CPU time over the measurement's wall time (1 = one core). */
export interface CpuShares {
  publisher: number;
  subscribers: number;
  alphaProxy: number;
  betaProxy: number;
  natsServer: number;
}

/** One line of the table: medians across runs. */
export interface PubsubRow {
  contender: ContenderKey;
  label: string;
  size: number;
  /** Publications per measurement. */
  publications: number;
  /** All six subscribers' receipts per second, from the first publish to the last receipt. */
  deliveredMsgPerS: number;
  /** Publications per second until the last was handed over. */
  publisherMsgPerS: number;
  /** Each run's delivered msg/s, in run order (the spread behind the median). */
  deliveredRuns: number[];
  /** CPU used by each group of processes during the measurement (medians; 1 = one core busy throughout). */
  cpu: CpuShares;
  /** Measurements in which every subscriber received every publication, in order, and nothing else. */
  complete: number;
  measured: number;
  /** What went wrong in the others: one line each. */
  failures: string[];
  /** slotlink: publications sent to the peer and received by it, summed over runs (each should equal `publications` × runs). */
  link?: { published: number; sentToPeers: number; receivedByPeer: number; deliveredAlpha: number; deliveredBeta: number };
}

export interface PubsubResult {
  runs: number;
  subscribers: number;
  rows: PubsubRow[];
  targets: Target[];
  notes: string[];
  skipped: string[];
}

const PEER = fileURLToPath(new URL('./pubsub-peer.js', import.meta.url));
const NATS_FLUSH_NOTE = '1024 publications (its only flow control: the server does not hold a publisher back for its subscribers)';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the benchmark; prints its table (or JSON) on stdout and returns the result. */
export async function runPubsubBench(values: PubsubBenchOptions): Promise<PubsubResult> {
  const quick = values.quick === true;
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const messages = Number(values.messages ?? (quick ? 20_000 : 800_000));
  const sizes = (values.sizes ?? DEFAULT_SIZES.join(',')).split(',').map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs expects a whole number ≥ 1, got ${values.runs}`);
  if (!Number.isInteger(messages) || messages < 100) throw new Error(`--messages expects a whole number ≥ 100, got ${values.messages}`);
  if (sizes.some((s) => !Number.isInteger(s) || s < 8 || s > 1 << 20)) throw new Error(`--sizes expects sizes in bytes, 8 to 1048576, separated by commas, got ${values.sizes}`);
  const order: ContenderKey[] = ['slotlink', 'nats'];
  const wanted = (values.contenders ?? order.join(',')).split(',');
  const unknown = wanted.filter((k) => !(order as string[]).includes(k));
  if (unknown.length > 0) throw new Error(`--contenders expects some of ${order.join(', ')}, got ${unknown.join(', ')}`);
  /** Publications per measurement of `size` bytes: about as many bytes as `messages` of 64 B, at least a tenth as many. */
  const countFor = (size: number) => Math.max(Math.round(messages / 10), Math.round((messages * 64) / Math.max(64, size)));
  /** How long a subscriber may receive nothing before the measurement counts as incomplete. */
  const quietMs = quick ? 2000 : 5000;

  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];
  if (values.profile) mkdirSync(values.profile, { recursive: true });
  const alternatives = await startAlternatives();
  const skipped = alternatives.skipped.filter((s) => s.startsWith('NATS') && wanted.includes('nats'));
  // Plaintext for every contender: like for like.
  const proxyArgs = values['proxy-args'] ? values['proxy-args'].trim().split(/\s+/) : [];
  const mesh = await Mesh.start({ security: () => ['--insecure-plaintext'], args: proxyArgs, nodeArgs: profile });
  const procs: IpcChild[] = [];
  try {
    const start = async (who: { name: string; side: Side }) => {
      const child = await IpcChild.fork(PEER, [], profile);
      procs.push(child);
      await child.call('connect', { socket: mesh.socket(who.side), name: who.name });
      if (alternatives.nats) await child.call('natsConnect', { url: alternatives.nats.url });
      return child;
    };
    const subscribers = await Promise.all(SUBSCRIBERS.map(start));
    const publisher = await start(PUBLISHER);
    const natsPid = alternatives.nats?.pid;
    const cpuSeconds = (pid: number) => schedule(pid).runS;
    /** CPU seconds so far of each group of processes. */
    const cpuNow = (): CpuShares => ({
      publisher: cpuSeconds(publisher.pid),
      subscribers: subscribers.reduce((a, s) => a + cpuSeconds(s.pid), 0),
      alphaProxy: cpuSeconds(mesh.alpha.pid),
      betaProxy: cpuSeconds(mesh.beta.pid),
      natsServer: natsPid ? cpuSeconds(natsPid) : 0,
    });
    if (values.profile) {
      // Which profile is whose: the files are named after the process ids.
      const pids: Record<string, string> = { [mesh.alpha.pid]: 'proxy alpha', [mesh.beta.pid]: 'proxy beta', [publisher.pid]: PUBLISHER.name };
      for (const [i, s] of subscribers.entries()) pids[s.pid] = SUBSCRIBERS[i]!.name;
      writeFileSync(join(values.profile, 'pids.json'), JSON.stringify(pids, null, 2) + '\n');
    }
    const contenders = order.filter((k) => wanted.includes(k) && (k !== 'nats' || alternatives.nats !== null));
    for (const kind of contenders) await Promise.all(subscribers.map((s) => s.call('subscribe', { kind, subject: SUBJECT })));
    // The publisher's proxy must know beta's subscriptions before the first publication.
    if (contenders.includes('slotlink')) await mesh.waitForRemoteSubject('alpha', SUBJECT);

    let tag = 0;
    /** One measurement: `n` publications of `size` bytes, every subscriber counting. */
    async function measure(kind: ContenderKey, size: number, n: number) {
      tag++;
      await Promise.all(subscribers.map((s) => s.call('expect', { kind, n, tag })));
      const before = kind === 'slotlink' ? await Promise.all([mesh.status('alpha'), mesh.status('beta')]) : null;
      const cpuBefore = cpuNow();
      const wallBefore = performance.now();
      const pub = await publisher.call<{ start: number; end: number }>('publish', { kind, subject: SUBJECT, n, size, tag });
      const got = await Promise.all(subscribers.map((s) => s.call<{ count: number; expected: number; firstAt: number; lastAt: number; outOfOrder: number; bad: string[] }>('received', { kind, quietMs })));
      const cpuAfter = cpuNow();
      const wall = (performance.now() - wallBefore) / 1000;
      const cpu = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, (cpuAfter[k as keyof CpuShares] - cpuBefore[k as keyof CpuShares]) / wall])) as unknown as CpuShares;
      const failures: string[] = [];
      for (const [i, g] of got.entries()) {
        const who = SUBSCRIBERS[i]!.name;
        if (g.count !== n) failures.push(`${who} received ${g.count} of ${n}`);
        if (g.outOfOrder > 0) failures.push(`${who}: ${g.outOfOrder} out of order or from another measurement (${g.bad.join('; ')})`);
      }
      // Where a subscriber that missed publications stands at its proxy (what waits for its slot, whether it reads).
      if (kind === 'slotlink' && got.some((g) => g.count !== n)) {
        const now = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
        for (const [i, g] of got.entries()) {
          if (g.count === n) continue;
          const who = SUBSCRIBERS[i]!;
          const st = now[who.side === 'alpha' ? 0 : 1];
          const slot = st.slots.find((x) => x.name === who.name);
          const sub = st.subscriptions.find((x) => x.name === who.name);
          failures.push(`${who.name} at proxy ${who.side}: ${JSON.stringify({ slot, subscription: sub, link: st.links[0] && { waitingMessages: st.links[0].waitingMessages, heldUnits: st.links[0].heldUnits, unconfirmedUnits: st.links[0].unconfirmedUnits } })}`);
        }
      }
      const total = got.reduce((a, g) => a + g.count, 0);
      const lastAt = Math.max(...got.map((g) => g.lastAt));
      let link: PubsubRow['link'];
      if (before) {
        const [alpha, beta] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
        const d = (after: ProxyStats, was: ProxyStats, k: keyof ProxyStats['publications']) => after.publications[k] - was.publications[k];
        link = {
          published: d(alpha, before[0], 'published'),
          sentToPeers: d(alpha, before[0], 'sentToPeers'),
          receivedByPeer: d(beta, before[1], 'received'),
          deliveredAlpha: d(alpha, before[0], 'delivered'),
          deliveredBeta: d(beta, before[1], 'delivered'),
        };
      }
      return {
        deliveredMsgPerS: (total / (lastAt - pub.start)) * 1e6,
        publisherMsgPerS: (n / (pub.end - pub.start)) * 1e6,
        failures,
        link,
        cpu,
      };
    }

    // Warm up every contender at every size (JIT, connections, buffers, the link's windows) with a short measurement, not counted.
    for (const size of sizes) for (const c of contenders) await measure(c, size, Math.max(100, Math.round(countFor(size) / 10)));

    const samples = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>();
    const key = (c: ContenderKey, size: number) => `${c}|${size}`;
    for (let run = 0; run < runs; run++)
      for (const size of sizes)
        for (const c of inTurn(contenders, run)) {
          await sleep(quick ? 100 : 500); // what the last one left behind (acknowledgements, collection) settles
          const k = key(c, size);
          if (!samples.has(k)) samples.set(k, []);
          samples.get(k)!.push(await measure(c, size, countFor(size)));
        }

    const rows: PubsubRow[] = [];
    for (const size of sizes)
      for (const c of contenders) {
        const s = samples.get(key(c, size))!;
        const row: PubsubRow = {
          contender: c,
          label: CONTENDERS[c],
          size,
          publications: countFor(size),
          deliveredMsgPerS: median(s.map((x) => x.deliveredMsgPerS)),
          publisherMsgPerS: median(s.map((x) => x.publisherMsgPerS)),
          deliveredRuns: s.map((x) => Math.round(x.deliveredMsgPerS)),
          cpu: Object.fromEntries(Object.keys(s[0]!.cpu).map((k) => [k, Math.round(median(s.map((x) => x.cpu[k as keyof CpuShares])) * 100) / 100])) as unknown as CpuShares,
          complete: s.filter((x) => x.failures.length === 0).length,
          measured: s.length,
          failures: s.flatMap((x, run) => x.failures.map((f) => `run ${run + 1}: ${f}`)),
        };
        if (c === 'slotlink') {
          const sum = (k: keyof NonNullable<PubsubRow['link']>) => s.reduce((a, x) => a + x.link![k], 0);
          row.link = { published: sum('published'), sentToPeers: sum('sentToPeers'), receivedByPeer: sum('receivedByPeer'), deliveredAlpha: sum('deliveredAlpha'), deliveredBeta: sum('deliveredBeta') };
        }
        rows.push(row);
      }
    const notes = [
      `slotlink: the publisher and subscribers 0-2 on proxy alpha, subscribers 3-5 on proxy beta, linked over loopback (plaintext, like the others); subscribers use \`for await (const m of ep.subscribe(subject))\` (policy block: a slow subscriber holds the publisher back), the publisher \`await ep.publish(subject, data)\`.`,
      ...(contenders.includes('nats') ? [`NATS: the same seven processes, each with its own connection to one local nats-server (a NATS cluster of two servers, one per host, would be a different setup); subscribers use \`for await (const m of nc.subscribe(subject))\`, the publisher \`nc.publish()\` with \`await nc.flush()\` every ${NATS_FLUSH_NOTE}.`] : []),
    ];
    const result: PubsubResult = { runs, subscribers: SUBSCRIBERS.length, rows, targets: pubsubTargets(rows, sizes), notes, skipped };
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderPubsub(result).join('\n') + '\n');
    await Promise.all(procs.map((c) => c.call('close')));
    return result;
  } finally {
    // end(): the children exit by themselves, so --cpu-prof writes their profiles.
    await Promise.all(procs.map((c) => (values.profile ? c.end(5000) : c.kill())));
    await mesh.close();
    alternatives.stop();
  }
}

/** Issue 12's target, per size, judged on the table's medians. */
export function pubsubTargets(rows: PubsubRow[], sizes: readonly number[]): Target[] {
  return sizes.map((size) => {
    const sl = rows.find((r) => r.contender === 'slotlink' && r.size === size);
    const nats = rows.find((r) => r.contender === 'nats' && r.size === size);
    const measured = sl !== undefined && nats !== undefined;
    return {
      target: `delivered ≥ 2 × NATS, ${sizeLabel(size)}`,
      met: measured ? atMost(2 * nats.deliveredMsgPerS, sl.deliveredMsgPerS) : null,
      figures: measured ? `slotlink ${fmt(sl.deliveredMsgPerS)} vs NATS ${fmt(nats.deliveredMsgPerS)} msg/s: ${(sl.deliveredMsgPerS / nats.deliveredMsgPerS).toFixed(2)}×` : 'not measured',
    };
  });
}

/** The markdown table, the checks, the target and the notes, as lines. */
export function renderPubsub(r: PubsubResult): string[] {
  const ratio = (x: PubsubRow) => {
    const nats = r.rows.find((y) => y.contender === 'nats' && y.size === x.size);
    return x.contender === 'slotlink' && nats ? `${(x.deliveredMsgPerS / nats.deliveredMsgPerS).toFixed(2)}×` : '-';
  };
  const checks: string[] = [];
  for (const x of r.rows) {
    const what = `${x.label}, ${sizeLabel(x.size)}`;
    if (x.complete === x.measured) checks.push(`- ${what}: every subscriber received every publication, in order, in all ${x.measured} run(s)`);
    else checks.push(`- ${what}: **FAILED** in ${x.measured - x.complete} of ${x.measured} run(s): ${x.failures.join('; ')}`);
    if (x.link) {
      const l = x.link;
      const once = l.sentToPeers === l.published && l.receivedByPeer === l.published;
      checks.push(
        `- ${what}: ${once ? 'each publication crossed the link once' : '**NOT once per publication over the link**'} (alpha published ${l.published}, sent to beta ${l.sentToPeers}, beta received ${l.receivedByPeer}; copies into slots: alpha ${l.deliveredAlpha}, beta ${l.deliveredBeta})`,
      );
    }
  }
  return [
    `publish/subscribe: 1 publisher → ${r.subscribers} subscribers (3 on each of two hosts), one subject, as fast as flow control allows; medians of ${r.runs} run(s); delivered msg/s = all subscribers' receipts / (first publish → last subscriber's last receipt)`,
    '',
    mdRow(['contender', 'size', 'publications', 'delivered msg/s', 'publisher msg/s', 'slotlink / NATS (delivered)']),
    mdRow(Array(6).fill('---')),
    ...r.rows.map((x) => mdRow([x.label, sizeLabel(x.size), String(x.publications), fmt(x.deliveredMsgPerS), fmt(x.publisherMsgPerS), ratio(x)])),
    '',
    'CPU during the measurements (cores busy on average, medians of the runs; 2 cores in all):',
    '',
    mdRow(['contender', 'size', 'publisher', '6 subscribers', 'proxy alpha', 'proxy beta', 'nats-server']),
    mdRow(Array(7).fill('---')),
    ...r.rows.map((x) => {
      const c = x.cpu;
      const sl = x.contender === 'slotlink';
      return mdRow([x.label, sizeLabel(x.size), c.publisher.toFixed(2), c.subscribers.toFixed(2), sl ? c.alphaProxy.toFixed(2) : '-', sl ? c.betaProxy.toFixed(2) : '-', sl ? '-' : c.natsServer.toFixed(2)]);
    }),
    '',
    'checks:',
    ...checks,
    '',
    'target (issue 12):',
    ...r.targets.map(targetLine),
    '',
    ...r.notes.map((n) => `note: ${n}`),
    ...(r.skipped.length ? ['', `skipped: ${r.skipped.join('; ')}`] : []),
  ];
}

const parseOptions = {
  runs: { type: 'string' },
  messages: { type: 'string' },
  sizes: { type: 'string' },
  contenders: { type: 'string' },
  profile: { type: 'string' },
  'proxy-args': { type: 'string' },
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runPubsubBench(parseArgs({ options: parseOptions }).values);
