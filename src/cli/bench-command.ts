/** `slotlink bench`: slotlink against direct TCP, NATS and ZeroMQ, side by side, in one run. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, intFlag, type Command } from './args.js';

/** The workloads, each a program of its own in bench/ (compiled beside src/: dist/bench/). */
const WORKLOADS = { link: 'link.js', loaded: 'loaded-requests.js', pubsub: 'pubsub.js' } as const;
type Workload = keyof typeof WORKLOADS;
/** The flags each workload takes besides --quick, --json and --runs. */
const FLAGS: Record<Workload, readonly string[]> = { link: ['pairs', 'messages'], loaded: ['requests', 'contenders', 'bulk-nice'], pubsub: ['messages', 'sizes', 'contenders'] };
/** What --contenders may name, per workload that takes it. */
const CONTENDERS: Partial<Record<Workload, readonly string[]>> = { loaded: ['slotlink', 'nats', 'zmq', 'direct'], pubsub: ['slotlink', 'nats'] };

export const benchCommand: Command = {
  name: 'bench',
  summary: 'compare slotlink with direct TCP, NATS and ZeroMQ on this machine',
  usage: `Usage: slotlink bench [--workload all|link|loaded|pubsub] [--quick] [--runs N] [--json]
                     [--pairs 1,4,16] [--messages N] [--requests N] [--sizes 64,4096]
                     [--contenders slotlink,nats,...] [--bulk-nice N]

Starts two linked proxies ("alpha" and "beta") and worker processes on each, and measures
every contender with the same processes: slotlink, a direct TCP connection per pair, NATS
through a local nats-server (apt-get install nats-server) and ZeroMQ (npm zeromq). A missing
alternative is reported as skipped. Medians over --runs runs (default 3). Three workloads,
all by default (--workload all), one after the other:

  link     P senders on alpha, P receivers on beta (--pairs, default 1,4,16): aggregate
           throughput at 64 B and 4 KiB (--messages per measurement, default 1000000), request
           round trips (median and p99), the local hop (a process, its proxy, back) next to a
           Unix-socket ping-pong, and the connections each approach needs. slotlink runs
           plaintext like the others, and again with TLS 1.3 and a shared secret.
  loaded   requests under load: two bulk pairs stream alpha -> beta as fast as flow control
           allows while a separate pair does one 64 B request every millisecond (--requests
           per loaded phase, default 3000); round-trip p50 idle and loaded, p99 loaded, and
           bulk msg/s while loaded, for 64 B and 4 KiB bulk, with a separate responder and
           with a responder that also receives a bulk stream. Plaintext for all.
           --bulk-nice N (0..19) runs the bulk senders and receivers at that nice value,
           so that what is left of a loaded round trip is the contender's own work and
           queues rather than waits for a CPU.
  pubsub   publish/subscribe: one publisher on alpha, three subscribers on alpha and three on
           beta, one subject; the publisher publishes --messages publications of 64 B
           (default 800000; as many bytes at larger --sizes, at least a tenth as many) as
           fast as flow control allows. Delivered msg/s (all six subscribers' receipts over
           the time from the first publish to the last receipt) and the publisher's rate,
           against NATS (the same processes, one nats-server); every subscriber's receipts
           are checked (all, in order), and the proxies' counters show each publication
           crossed the link once. Plaintext.

Each prints a markdown table with ratios and the targets of issues 10 and 12, judged on the
same run (met / not met). --json: JSON instead ({ link, loaded, pubsub } with --workload
all). --contenders: only these, for loaded (slotlink, nats, zmq, direct) and pubsub
(slotlink, nats). --quick: small sizes, 1 run, 1 and 4 pairs, 300 requests per loaded
phase, 20000 publications (about a minute in all). Scripts with more workloads are in bench/
(see docs/benchmarks.md).`,
  options: {
    workload: { type: 'string' },
    quick: { type: 'boolean' },
    pairs: { type: 'string' },
    runs: { type: 'string' },
    messages: { type: 'string' },
    requests: { type: 'string' },
    sizes: { type: 'string' },
    contenders: { type: 'string' },
    'bulk-nice': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(v) {
    const workload = String(v.workload ?? 'all');
    if (workload !== 'all' && !(workload in WORKLOADS)) throw new UsageError(`--workload expects all, ${Object.keys(WORKLOADS).join(', ')}, got ${JSON.stringify(v.workload)}`);
    const workloads = (workload === 'all' ? Object.keys(WORKLOADS) : [workload]) as Workload[];
    if (v.pairs !== undefined && !/^\d+(,\d+)*$/.test(String(v.pairs))) throw new UsageError(`--pairs expects numbers separated by commas, got ${JSON.stringify(v.pairs)}`);
    if (v.sizes !== undefined && !/^\d+(,\d+)*$/.test(String(v.sizes))) throw new UsageError(`--sizes expects sizes in bytes separated by commas, got ${JSON.stringify(v.sizes)}`);
    if (v.runs !== undefined) intFlag(v, 'runs', 1, 1, 100);
    if (v.messages !== undefined) intFlag(v, 'messages', 1, 100);
    if (v.requests !== undefined) intFlag(v, 'requests', 1, 20);
    if (v['bulk-nice'] !== undefined) intFlag(v, 'bulk-nice', 0, 0, 19);
    for (const flag of ['pairs', 'messages', 'requests', 'sizes', 'contenders', 'bulk-nice'] as const) {
      const takers = (Object.keys(FLAGS) as Workload[]).filter((w) => FLAGS[w].includes(flag));
      if (v[flag] !== undefined && !workloads.some((w) => takers.includes(w))) throw new UsageError(`--${flag} applies to the ${takers.join(' and ')} workload${takers.length > 1 ? 's' : ''}, not to --workload ${workload}`);
    }
    /** --contenders for each workload that takes it: the ones it knows. */
    const contenders: Partial<Record<Workload, string>> = {};
    if (v.contenders !== undefined) {
      const named = String(v.contenders).split(',');
      const known = new Set(workloads.flatMap((w) => CONTENDERS[w] ?? []));
      const unknown = named.filter((c) => !known.has(c));
      if (unknown.length > 0) throw new UsageError(`--contenders expects some of ${[...known].join(', ')}, got ${unknown.join(', ')}`);
      for (const w of workloads) {
        const mine = named.filter((c) => CONTENDERS[w]?.includes(c));
        if (CONTENDERS[w] && mine.length === 0) throw new UsageError(`--contenders ${v.contenders} names none of the ${w} workload's (${CONTENDERS[w]!.join(', ')})`);
        if (mine.length > 0) contenders[w] = mine.join(',');
      }
    }
    // The CLI runs each benchmark as a program rather than loading it, so nothing it needs
    // (NATS, ZeroMQ) is the CLI's.
    const scripts = workloads.map((w) => fileURLToPath(new URL(`../../bench/${WORKLOADS[w]}`, import.meta.url)));
    for (const script of scripts)
      if (!existsSync(script)) throw new UsageError(`the benchmark is not part of this installation (${script}): run it from a checkout of slotlink (npm ci && npx slotlink bench)`);
    const json: Partial<Record<Workload, unknown>> = {};
    for (const [i, w] of workloads.entries()) {
      const args: string[] = [];
      for (const key of ['quick', 'json'] as const) if (v[key] === true) args.push(`--${key}`);
      for (const key of ['runs', ...FLAGS[w]]) if (v[key] !== undefined) args.push(`--${key}`, String(key === 'contenders' ? contenders[w] : v[key]));
      // With one workload its JSON passes straight through; with several they are combined.
      const collect = v.json === true && workloads.length > 1;
      if (i > 0 && !collect) process.stdout.write('\n');
      const child = spawn(process.execPath, [scripts[i]!, ...args], { stdio: ['ignore', collect ? 'pipe' : 'inherit', 'inherit'] });
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      if (signal) throw new Error(`the ${w} benchmark ended on ${signal}`);
      if (code !== 0) return code ?? 1;
      if (collect) json[w] = JSON.parse(out);
    }
    if (v.json === true && workloads.length > 1) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return 0;
  },
};
