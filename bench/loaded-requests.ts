/**
 * Requests under load (issue 10): two hosts simulated on loopback (proxies "alpha" and
 * "beta", plaintext), two bulk pairs streaming from alpha to beta as fast as flow control
 * allows, and a separate pair doing one 64 B request every millisecond from alpha to beta;
 * every process its own. For each contender (slotlink, NATS through a local nats-server,
 * ZeroMQ, a direct TCP connection per pair), each bulk size (64 B, 4 KiB) and each variant
 * (a separate responder; a responder that also receives one of the bulk streams) it measures
 * the request round trips idle (no bulk: median) and loaded (bulk running the whole time:
 * median and p99), and the bulk messages per second received while loaded. Medians across
 * runs; then issue 10's targets, judged on the figures of this run.
 *
 *   node dist/bench/loaded-requests.js [--runs 3] [--requests 3000] [--quick] [--json]
 *                                      [--contenders slotlink,nats,zmq,direct] [--bulk-nice N]
 *
 * --requests: requests timed in each loaded phase, one per millisecond (the phase lasts that
 * many ms); a third as many are timed idle, after a fifteenth as many untimed.
 * --contenders: only these (for A/B runs of a change to one of them; the targets that
 * compare with a contender left out are then reported as such).
 * --bulk-nice: run the bulk senders and receivers at this nice value (0..19; default 0):
 * with 19 they take the CPU only when the request path does not want it, so what is left of
 * a loaded round trip is the contender's own work and queues, not waits for a CPU.
 */
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Mesh } from '../src/cli/mesh.js';
import { IpcChild } from '../src/util/ipc-child.js';
import { atMost, inTurn, mdRow, startAlternatives, targetLine, type Target } from './alternatives.js';
import { meanWaitMs, renice, schedule, since, sumOf, type Schedule } from './schedule.js';
import { fmt, median, percentile } from './stats.js';

export interface LoadedBenchOptions {
  runs?: string;
  requests?: string;
  contenders?: string;
  bulkNice?: string;
  quick?: boolean;
  json?: boolean;
}

export type ContenderKey = 'slotlink' | 'nats' | 'zmq' | 'direct';
export type Variant = 'separate' | 'alsoReceives';
export const CONTENDERS: Record<ContenderKey, string> = { slotlink: 'slotlink', nats: 'NATS', zmq: 'ZeroMQ', direct: 'direct TCP per pair' };
export const VARIANTS: Record<Variant, string> = { separate: 'separate', alsoReceives: 'also receives bulk' };
export const SIZES = [64, 4096] as const;
const sizeLabel = (size: number) => (size === 64 ? '64 B' : `${size / 1024} KiB`);

/** One line of the table: medians across runs; round trips in ms. */
export interface LoadedRow {
  contender: ContenderKey;
  label: string;
  bulkSize: number;
  variant: Variant;
  idleP50Ms: number;
  loadedP50Ms: number;
  loadedP99Ms: number;
  bulkMsgPerS: number;
  /** Requests that got no answer within the timeout, summed over runs (not in the round trips). */
  failed: number;
  /** Bulk messages sent but not received once the senders stopped and the rest drained, summed over runs. */
  undelivered: number;
  /** How long the loaded requests took to send and be answered (about `requests` ms when paced as asked). */
  loadedPhaseMs: number;
  /** The time between two loaded requests leaving, on average (the pace asked for is 1 ms; Node's timers fire a little late). */
  requestIntervalMs: number;
  /** CPU time of all the contender's processes (the six peers, and its proxies or server) over the loaded phase's wall time: 1 = one core busy throughout. */
  cpuCores: number;
  /**
   * On the request's path (requester, responder, and the contender's proxies or server): how
   * long a thread waited for a CPU, on average, each time it got one (woken or preempted)
   * during the loaded phase (bench/schedule.ts).
   */
  pathWaitMs: number;
  /** The same CPU figure per process (by its name in the benchmark: bulk0, …, proxy alpha, nats-server). */
  cpuCoresByProcess: Record<string, number>;
}

export interface LoadedResult {
  runs: number;
  requests: number;
  idleRequests: number;
  intervalMs: number;
  /** The nice value the bulk senders and receivers ran at, as the kernel reports it (0: as every other process). */
  bulkNice: number;
  rows: LoadedRow[];
  targets: Target[];
  skipped: string[];
}

const INTERVAL_US = 1000;
const REQUEST_SIZE = 64;
const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));
const ALPHA = ['bulk0', 'bulk1', 'requester'] as const;
const BETA = ['sink0', 'sink1', 'responder'] as const;
type BetaName = (typeof BETA)[number];
/** The processes that only carry bulk (the responder may receive bulk too, but it is on the request's path). */
const BULK = ['bulk0', 'bulk1', 'sink0', 'sink1'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the benchmark; prints its table (or JSON) on stdout and returns the result. */
export async function runLoadedBench(values: LoadedBenchOptions): Promise<LoadedResult> {
  const quick = values.quick === true;
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const requests = Number(values.requests ?? (quick ? 300 : 3000));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs expects a whole number ≥ 1, got ${values.runs}`);
  if (!Number.isInteger(requests) || requests < 20) throw new Error(`--requests expects a whole number ≥ 20, got ${values.requests}`);
  const bulkNice = Number(values.bulkNice ?? 0);
  if (!Number.isInteger(bulkNice) || bulkNice < 0 || bulkNice > 19) throw new Error(`--bulk-nice expects a whole number 0..19, got ${values.bulkNice}`);
  const idleRequests = Math.max(20, Math.round(requests / 3));
  const warmUp = Math.max(20, Math.round(requests / 15));
  /** Before the idle requests: right after a burst the kernel still places wake-ups as if busy (see bench/link.ts). */
  const quietMs = quick ? 200 : 1000;
  /** From starting the bulk senders to the first loaded request: the streams reach their pace. */
  const rampMs = quick ? 100 : 300;

  const alternatives = await startAlternatives();
  const { skipped } = alternatives;
  // Plaintext for every contender: like for like.
  const mesh = await Mesh.start({ security: () => ['--insecure-plaintext'] });
  const procs = new Map<string, IpcChild>();
  const p = (name: string) => procs.get(name)!;
  try {
    for (const name of [...ALPHA, ...BETA]) {
      const child = await IpcChild.fork(PEER);
      procs.set(name, child);
      await child.call('connect', { socket: mesh.socket((ALPHA as readonly string[]).includes(name) ? 'alpha' : 'beta'), name });
      if (alternatives.nats) await child.call('natsConnect', { url: alternatives.nats.url, subject: name });
    }
    if (bulkNice > 0) for (const name of BULK) renice(p(name).pid, bulkNice);
    // Read back from the kernel (the least of the bulk processes), not echoed from the flag.
    const bulkNiceSet = Math.min(...BULK.map((name) => os.getPriority(p(name).pid)));
    const ports = new Map<BetaName, { port: number }>();
    const zmqEndpoints = new Map<BetaName, { pull: string; router: string }>();
    for (const name of BETA) {
      ports.set(name, await p(name).call('listen', {}));
      if (alternatives.zmq) zmqEndpoints.set(name, await p(name).call('zmqBind', { router: true }));
    }
    // Both names must be known on alpha before anything is sent to them.
    for (const name of BETA) await mesh.waitForRemoteName('alpha', name);

    /** Who sends to whom in a variant: bulk0 → sink0; bulk1 → sink1, or the responder; requester → responder. */
    const plan = (variant: Variant): Array<[sender: (typeof ALPHA)[number], to: BetaName]> => [
      ['bulk0', 'sink0'],
      ['bulk1', variant === 'separate' ? 'sink1' : 'responder'],
      ['requester', 'responder'],
    ];
    interface Contender {
      key: ContenderKey;
      /** What peer.ts calls this transport. */
      kind: 'slotlink' | 'nats' | 'zmq' | 'direct';
      /** The destination as peer.ts's bulkStart / pacedRequests take it. */
      to(dest: BetaName): { to?: string };
      /** Opens what the variant's senders need (the socket contenders connect per pair). */
      aim(variant: Variant): Promise<void>;
      /** Its processes besides the six peers (proxies, a server), by name. */
      between: Record<string, number>;
    }
    const contenders: Contender[] = [
      { key: 'slotlink', kind: 'slotlink', to: (d) => ({ to: `${d}@beta` }), aim: async () => {}, between: { 'proxy alpha': mesh.alpha.pid, 'proxy beta': mesh.beta.pid } },
      {
        key: 'direct',
        kind: 'direct',
        to: () => ({}),
        aim: async (v) => void (await Promise.all(plan(v).map(([s, d]) => p(s).call('dial', ports.get(d)!)))),
        between: {},
      },
    ];
    if (alternatives.nats) contenders.push({ key: 'nats', kind: 'nats', to: (d) => ({ to: d }), aim: async () => {}, between: { 'nats-server': alternatives.nats.pid } });
    if (alternatives.zmq)
      contenders.push({
        key: 'zmq',
        kind: 'zmq',
        between: {},
        to: () => ({}),
        aim: async (v) =>
          void (await Promise.all(plan(v).map(([s, d]) => p(s).call('zmqConnect', s === 'requester' ? { router: zmqEndpoints.get(d)!.router } : { pull: zmqEndpoints.get(d)!.pull })))),
      });
    // The table's order: slotlink, NATS, ZeroMQ, direct TCP.
    const order: ContenderKey[] = ['slotlink', 'nats', 'zmq', 'direct'];
    contenders.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
    if (values.contenders !== undefined) {
      const wanted = values.contenders.split(',');
      const unknown = wanted.filter((k) => !(order as string[]).includes(k));
      if (unknown.length > 0) throw new Error(`--contenders expects some of ${order.join(', ')}, got ${unknown.join(', ')}`);
      contenders.splice(0, contenders.length, ...contenders.filter((c) => wanted.includes(c.key)));
    }

    type Paced = { rtts: number[]; failed: number; start: number; lastSent: number; end: number };
    const requestLoop = (c: Contender, n: number): Promise<Paced> =>
      p('requester').call('pacedRequests', { kind: c.kind, ...c.to('responder'), n, size: REQUEST_SIZE, intervalUs: INTERVAL_US });
    const receiversOf = (variant: Variant) => [...new Set(plan(variant).filter(([s]) => s !== 'requester').map(([, d]) => d))];
    const counts = (names: BetaName[]) => Promise.all(names.map((n) => p(n).call<{ count: number; at: number }>('received')));

    /** One cell: idle round trips, then round trips and bulk rate with both bulk streams running. */
    async function measure(c: Contender, size: number, variant: Variant, n: { idle: number; loaded: number; warm: number }) {
      await c.aim(variant);
      await sleep(quietMs);
      await requestLoop(c, n.warm);
      const idle = await requestLoop(c, n.idle);
      const receivers = receiversOf(variant);
      const base = await counts(receivers);
      const senders = plan(variant).filter(([s]) => s !== 'requester');
      await Promise.all(senders.map(([s, d]) => p(s).call('bulkStart', { kind: c.kind, ...c.to(d), size })));
      let stops: Array<{ sent: number }> = [];
      let loaded: Paced, before: typeof base, after: typeof base;
      const named: Array<[string, number]> = [...[...procs].map(([name, x]): [string, number] => [name, x.pid]), ...Object.entries(c.between)];
      const onPath = new Set(['requester', 'responder', ...Object.keys(c.between)]);
      let byProcess: Schedule[], wallS: number;
      try {
        await sleep(rampMs);
        before = await counts(receivers);
        const [each0, t0] = [named.map(([, pid]) => schedule(pid)), performance.now()];
        loaded = await requestLoop(c, n.loaded);
        [byProcess, wallS] = [named.map(([, pid], i) => since(each0[i]!, schedule(pid))), (performance.now() - t0) / 1000];
        after = await counts(receivers);
      } finally {
        // The streams ran from before the first loaded request until after the last answer.
        stops = await Promise.all(senders.map(([s]) => p(s).call('bulkStop')));
      }
      const bulkMsgPerS = receivers.reduce((sum, _, i) => sum + ((after[i]!.count - before[i]!.count) / (after[i]!.at - before[i]!.at)) * 1e6, 0);
      // Let what is queued arrive before the next cell: until all sent is counted, or nothing moved for a second.
      const sent = stops.reduce((a, s) => a + s.sent, 0);
      const delivered = async () => (await counts(receivers)).reduce((a, x, i) => a + x.count - base[i]!.count, 0);
      let got = await delivered();
      for (let last = got, still = 0; got < sent && still < (quick ? 500 : 1000); ) {
        await sleep(50);
        got = await delivered();
        still = got === last ? still + 50 : 0;
        last = got;
      }
      return {
        idleP50: median(idle.rtts) / 1000,
        loadedP50: median(loaded.rtts) / 1000,
        loadedP99: percentile(loaded.rtts, 0.99) / 1000,
        bulkMsgPerS,
        failed: idle.failed + loaded.failed,
        undelivered: Math.max(0, sent - got),
        loadedPhaseMs: (loaded.end - loaded.start) / 1000,
        requestIntervalMs: (loaded.lastSent - loaded.start) / 1000 / Math.max(1, n.loaded - 1),
        cpuCores: sumOf(byProcess).runS / wallS,
        pathWaitMs: meanWaitMs(sumOf(byProcess.filter((_, i) => onPath.has(named[i]![0])))),
        cpuCoresByProcess: Object.fromEntries(named.map(([name], i) => [name, byProcess[i]!.runS / wallS])),
      };
    }

    // Warm up every contender (JIT, connections, buffers) with a short loaded cell, not counted.
    // Its requests before the bulk are as many as a cell times (up to 1000): with 20, the first
    // cell's idle round trips were about twice the later cells' for slotlink and NATS alike.
    const small = { idle: 20, loaded: Math.min(200, requests), warm: Math.min(1000, requests) };
    for (const c of contenders) await measure(c, 64, 'separate', small);

    const samples = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>();
    const key = (c: ContenderKey, size: number, v: Variant) => `${c}|${size}|${v}`;
    for (let run = 0; run < runs; run++)
      for (const size of SIZES)
        for (const variant of Object.keys(VARIANTS) as Variant[])
          for (const c of inTurn(contenders, run)) {
            const k = key(c.key, size, variant);
            if (!samples.has(k)) samples.set(k, []);
            samples.get(k)!.push(await measure(c, size, variant, { idle: idleRequests, loaded: requests, warm: warmUp }));
          }

    const rows: LoadedRow[] = [];
    for (const variant of Object.keys(VARIANTS) as Variant[])
      for (const size of SIZES)
        for (const c of contenders) {
          const s = samples.get(key(c.key, size, variant))!;
          const m = (f: (x: (typeof s)[number]) => number) => median(s.map(f));
          rows.push({
            contender: c.key,
            label: CONTENDERS[c.key],
            bulkSize: size,
            variant,
            idleP50Ms: m((x) => x.idleP50),
            loadedP50Ms: m((x) => x.loadedP50),
            loadedP99Ms: m((x) => x.loadedP99),
            bulkMsgPerS: m((x) => x.bulkMsgPerS),
            failed: s.reduce((a, x) => a + x.failed, 0),
            undelivered: s.reduce((a, x) => a + x.undelivered, 0),
            loadedPhaseMs: m((x) => x.loadedPhaseMs),
            requestIntervalMs: m((x) => x.requestIntervalMs),
            cpuCores: m((x) => x.cpuCores),
            pathWaitMs: m((x) => x.pathWaitMs),
            cpuCoresByProcess: Object.fromEntries(Object.keys(s[0]!.cpuCoresByProcess).map((name) => [name, m((x) => x.cpuCoresByProcess[name]!)])),
          });
        }
    const result: LoadedResult = { runs, requests, idleRequests, intervalMs: INTERVAL_US / 1000, bulkNice: bulkNiceSet, rows, targets: loadedTargets(rows), skipped };
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderLoaded(result).join('\n') + '\n');
    await Promise.all([...procs.values()].map((c) => c.call('close')));
    return result;
  } finally {
    await Promise.all([...procs.values()].map((c) => c.kill()));
    await mesh.close();
    alternatives.stop();
  }
}

/** A round trip in ms, with the digits that matter at its size. */
export const ms = (v: number): string => (v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));

/** Issue 10's targets for this workload, judged on the table's medians. */
export function loadedTargets(rows: LoadedRow[]): Target[] {
  const row = (c: ContenderKey, size: number, v: Variant) => rows.find((r) => r.contender === c && r.bulkSize === size && r.variant === v);
  const targets: Target[] = [];
  const missing = (...xs: Array<LoadedRow | undefined>) => xs.some((x) => x === undefined);
  for (const size of SIZES) {
    const s = sizeLabel(size);
    const sl = row('slotlink', size, 'separate');
    const nats = row('nats', size, 'separate');
    const zmq = row('zmq', size, 'separate');
    if (sl) {
      const bound = Math.max(1, 3 * sl.idleP50Ms);
      targets.push({
        target: `loaded request p50 ≤ max(1 ms, 3 × idle p50), ${s} bulk`,
        met: atMost(sl.loadedP50Ms, bound),
        figures: `${ms(sl.loadedP50Ms)} ms vs max(1 ms, 3 × ${ms(sl.idleP50Ms)} ms) = ${ms(bound)} ms: ${(sl.loadedP50Ms / bound).toFixed(2)}× the bound`,
      });
    }
    targets.push({
      target: `loaded request p99 ≤ both NATS's and ZeroMQ's, ${s} bulk`,
      met: missing(sl, nats, zmq) ? null : atMost(sl!.loadedP99Ms, Math.min(nats!.loadedP99Ms, zmq!.loadedP99Ms)),
      figures: missing(sl, nats, zmq) ? 'not measured' : `slotlink ${ms(sl!.loadedP99Ms)} ms, NATS ${ms(nats!.loadedP99Ms)} ms, ZeroMQ ${ms(zmq!.loadedP99Ms)} ms`,
    });
    targets.push({
      target: `bulk msg/s while loaded ≥ 1.5 × NATS's, ${s} bulk`,
      met: missing(sl, nats) ? null : atMost(1.5 * nats!.bulkMsgPerS, sl!.bulkMsgPerS),
      figures: missing(sl, nats) ? 'not measured' : `slotlink ${fmt(sl!.bulkMsgPerS)} vs NATS ${fmt(nats!.bulkMsgPerS)}: ${(sl!.bulkMsgPerS / nats!.bulkMsgPerS).toFixed(2)}×`,
    });
  }
  for (const size of SIZES) {
    const sl = row('slotlink', size, 'alsoReceives');
    const nats = row('nats', size, 'alsoReceives');
    targets.push({
      target: `responder also receives bulk: loaded request p50 ≤ NATS's, ${sizeLabel(size)} bulk`,
      met: missing(sl, nats) ? null : atMost(sl!.loadedP50Ms, nats!.loadedP50Ms),
      figures: missing(sl, nats) ? 'not measured' : `slotlink ${ms(sl!.loadedP50Ms)} ms vs NATS ${ms(nats!.loadedP50Ms)} ms`,
    });
  }
  return targets;
}

/** The markdown table, the targets and the notes, as lines. */
export function renderLoaded(r: LoadedResult): string[] {
  const lossy = r.rows.filter((x) => x.failed > 0 || x.undelivered > 0);
  const intervals = r.rows.map((x) => x.requestIntervalMs);
  return [
    `requests under load: 2 bulk pairs alpha → beta streaming as fast as flow control allows, and a separate pair doing one ${REQUEST_SIZE} B request every ${r.intervalMs} ms (open loop: whether or not earlier ones were answered; measured ${ms(Math.min(...intervals))}–${ms(Math.max(...intervals))} ms apart on average, Node's timers fire late); plaintext;${r.bulkNice > 0 ? ` bulk senders and receivers at nice ${r.bulkNice};` : ''} medians of ${r.runs} run(s); per run ${r.idleRequests} requests timed idle, ${r.requests} loaded; round trips in ms`,
    '',
    mdRow(['contender', 'bulk size', 'responder', 'idle p50', 'loaded p50', 'loaded p99', 'bulk msg/s while loaded', 'CPU while loaded (cores)', 'wait for a CPU, request path (ms)']),
    mdRow(Array(9).fill('---')),
    ...r.rows.map((x) => mdRow([x.label, sizeLabel(x.bulkSize), VARIANTS[x.variant], ms(x.idleP50Ms), ms(x.loadedP50Ms), ms(x.loadedP99Ms), fmt(x.bulkMsgPerS), x.cpuCores.toFixed(2), ms(x.pathWaitMs)])),
    '',
    'responder: "separate" = bulk0 → sink0 and bulk1 → sink1 while the requester asks its own responder; "also receives bulk" = bulk1 streams to the responder itself.',
    'bulk msg/s: both streams together, counted by their receivers over the loaded request phase (the senders stream from before its first request until after its last answer).',
    `CPU: all the contender's processes (the six peers, and its proxies or server) over the loaded phase; 1 = one core busy throughout (this machine has ${os.availableParallelism()}). Wait for a CPU: on the request's path (requester, responder, and the proxies or server), how long a thread waited for a CPU, on average, each time it got one after being woken or preempted (from /proc/<pid>/task/*/schedstat): each process a round trip wakes adds about that much.`,
    '',
    'CPU by process while loaded (cores):',
    ...r.rows.map((x) => `- ${x.label}, ${sizeLabel(x.bulkSize)}, ${VARIANTS[x.variant]}: ${Object.entries(x.cpuCoresByProcess).map(([name, v]) => `${name} ${v.toFixed(2)}`).join(', ')}`),
    '',
    'targets (issue 10):',
    ...r.targets.map(targetLine),
    ...(lossy.length
      ? ['', ...lossy.map((x) => `note: ${x.label}, ${sizeLabel(x.bulkSize)}, ${VARIANTS[x.variant]}: ${x.failed} request(s) unanswered within 10 s, ${x.undelivered} bulk message(s) sent but never received`)]
      : []),
    ...(r.skipped.length ? ['', `skipped: ${r.skipped.join('; ')}`] : []),
  ];
}

const parseOptions = { runs: { type: 'string' }, requests: { type: 'string' }, contenders: { type: 'string' }, 'bulk-nice': { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } } as const;
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { 'bulk-nice': bulkNice, ...rest } = parseArgs({ options: parseOptions }).values;
  await runLoadedBench({ ...rest, bulkNice });
}
