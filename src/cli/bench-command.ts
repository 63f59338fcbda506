/** `slotlink bench`: slotlink against direct TCP, NATS and ZeroMQ, side by side, in one run. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
    // The benchmark is a program of its own in bench/ (compiled beside src/: dist/bench/link.js);
    // the CLI runs it rather than loading it, so nothing it needs (NATS, ZeroMQ) is the CLI's.
    const script = fileURLToPath(new URL('../../bench/link.js', import.meta.url));
    if (!existsSync(script)) throw new UsageError(`the benchmark is not part of this installation (${script}): run it from a checkout of slotlink (npm ci && npx slotlink bench)`);
    const args: string[] = [];
    for (const key of ['quick', 'json'] as const) if (v[key] === true) args.push(`--${key}`);
    for (const key of ['pairs', 'runs', 'messages'] as const) if (v[key] !== undefined) args.push(`--${key}`, String(v[key]));
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (signal) throw new Error(`the benchmark ended on ${signal}`);
    return code ?? 1;
  },
};
