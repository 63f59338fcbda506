/**
 * What the cross-host benchmarks share: the alternatives slotlink is measured against (a
 * local nats-server, npm zeromq), each reported as skipped when it is not there, and the
 * order contenders take turns in.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface Alternatives {
  /** The local nats-server, or null when skipped. */
  nats: { url: string; port: number; pid: number } | null;
  /** npm zeromq loads. */
  zmq: boolean;
  /** One sentence per skipped alternative, naming it first ("NATS (...)", "ZeroMQ (...)"). */
  skipped: string[];
  stop(): void;
}

/** Starts a nats-server on loopback if one is on PATH, and checks that zeromq loads. */
export async function startAlternatives(): Promise<Alternatives> {
  const skipped: string[] = [];
  let server: ChildProcess | null = null;
  let nats: Alternatives['nats'] = null;
  if (spawnSync('nats-server', ['--version']).status === 0) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const s = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    server = s;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      s.stderr!.on('data', (d: Buffer) => ((log += d), log.includes('Server is ready') && resolve()));
      s.once('exit', () => reject(new Error(`nats-server exited: ${log}`)));
    });
    nats = { url: `nats://127.0.0.1:${port}`, port, pid: s.pid! };
  } else skipped.push('NATS (no nats-server on PATH: apt-get install nats-server)');
  let zmq = true;
  try {
    await import('zeromq');
  } catch {
    zmq = false;
    skipped.push('ZeroMQ (npm package zeromq not installed)');
  }
  return { nats, zmq, skipped, stop: () => void server?.kill() };
}

/** The contenders in the order of run `run`: each run starts with a different one, so none always goes first or last. */
export function inTurn<T>(contenders: T[], run: number): T[] {
  return contenders.map((_, i) => contenders[(i + run) % contenders.length]!);
}

/** One markdown table row. */
export const mdRow = (cells: string[]): string => '| ' + cells.join(' | ') + ' |';

/** A goal stated as a ratio, judged on the figures of the same run. */
export interface Target {
  target: string;
  /** null: a figure it needs was not measured (a contender skipped). */
  met: boolean | null;
  figures: string;
}

/** `lhs ≤ rhs`, or null when either is missing. */
export function atMost(lhs: number | undefined, rhs: number | undefined): boolean | null {
  return lhs === undefined || rhs === undefined || !Number.isFinite(lhs) || !Number.isFinite(rhs) ? null : lhs <= rhs;
}

export function targetLine(t: Target): string {
  return `- ${t.target}: **${t.met === null ? 'not measured' : t.met ? 'met' : 'not met'}** (${t.figures})`;
}
