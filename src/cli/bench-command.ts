/** `slotlink bench`: slotlink against direct TCP, NATS and ZeroMQ, side by side, in one run. */
import { UsageError, intFlag, type Command } from './args.js';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'compare slotlink with direct TCP, NATS and ZeroMQ on this machine',
  usage: `Usage: slotlink bench [--quick] [--pairs 1,4,16] [--runs N] [--messages N] [--json]

Starts two linked proxies ("alpha" and "beta", TLS 1.3 with a fresh secret), P sender
processes on alpha and P receivers on beta, and measures, with the same processes for every
contender: aggregate throughput at 64 B and 4 KiB for each pair count, request round trips
(median and p99), and the connections each approach needs. Contenders: slotlink, a direct
TCP connection per pair, NATS through a local nats-server (apt-get install nats-server) and
ZeroMQ (npm zeromq). A missing alternative is reported as skipped. Prints one table with the
ratio slotlink / alternative, or JSON with --json. --quick: small sizes, 1 run, 1 and 4 pairs.
Scripts with more workloads are in bench/ (see docs/benchmarks.md).`,
  options: { quick: { type: 'boolean' }, pairs: { type: 'string' }, runs: { type: 'string' }, messages: { type: 'string' }, json: { type: 'boolean' } },
  async run(v) {
    if (v.pairs !== undefined && !/^\d+(,\d+)*$/.test(String(v.pairs))) throw new UsageError(`--pairs expects numbers separated by commas, got ${JSON.stringify(v.pairs)}`);
    if (v.runs !== undefined) intFlag(v, 'runs', 1, 1, 100);
    if (v.messages !== undefined) intFlag(v, 'messages', 1, 100);
    // bench/ is compiled beside src/: dist/bench/link.js.
    const { runLinkBench } = await import(new URL('../../bench/link.js', import.meta.url).href);
    await runLinkBench({ quick: v.quick === true, json: v.json === true, pairs: v.pairs as string | undefined, runs: v.runs as string | undefined, messages: v.messages as string | undefined });
    return 0;
  },
};
