/**
 * A small coverage-guided fuzzer for the decoders, in the test process itself: it mutates
 * inputs from a corpus, runs a target, and keeps an input when V8's block coverage of the
 * target's own modules shows a block reached (or reached a new number of times) that no
 * earlier input reached. (Jazzer.js, the usual tool, needs a newer glibc than our machines
 * have; this uses the inspector's precise coverage instead of compiler instrumentation.)
 *
 * Coverage is read once per batch of inputs; only a batch that found something is run again
 * input by input, so most executions cost nothing extra.
 */
import { createHash } from 'node:crypto';
import { Session } from 'node:inspector';
import type { Random } from '../helpers/random.js';

export interface FuzzTarget {
  name: string;
  /** Modules whose coverage guides the search (matched against script URLs). */
  modules: RegExp;
  /** Well-formed inputs to start from. */
  seeds(): Buffer[];
  /** Runs one input; returns normally or throws. */
  run(input: Buffer): void;
  /** Whether an error is a refusal the decoder is meant to make (anything else is a finding). */
  refusal(err: unknown): boolean;
}

export interface Finding {
  input: Buffer;
  error: string;
}

export interface FuzzResult {
  execs: number;
  /** Inputs that reached something new, in the order found. */
  found: Buffer[];
  blocks: number;
  findings: Finding[];
}

const BATCH = 32;
const MAX_INPUT = 4096;

export function inputName(input: Buffer): string {
  return createHash('sha1').update(input).digest('hex').slice(0, 16);
}

export class CoverageFuzzer {
  private readonly session = new Session();
  private readonly seen = new Set<string>();
  private readonly corpus: Buffer[] = [];

  constructor(private readonly target: FuzzTarget, private readonly rnd: Random) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** Runs the corpus (seeds and saved inputs), then mutates for `seconds`. */
  run(initial: Buffer[], seconds: number): FuzzResult {
    const result: FuzzResult = { execs: 0, found: [], blocks: 0, findings: [] };
    this.newBlocks(); // what loading the modules covered is nobody's doing
    for (const input of initial) {
      this.exec(input, result);
      if (this.newBlocks() > 0 || this.corpus.length === 0) this.corpus.push(input);
    }
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const batch = Array.from({ length: BATCH }, () => this.mutate());
      for (const input of batch) this.exec(input, result);
      if (this.newBlocks() === 0) continue;
      // Something in the batch was new: find which input(s).
      for (const input of batch) {
        this.exec(input, result);
        if (this.newBlocks() > 0) {
          this.corpus.push(input);
          result.found.push(input);
        }
      }
    }
    result.blocks = this.seen.size;
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
    return result;
  }

  private exec(input: Buffer, result: FuzzResult): void {
    result.execs++;
    try {
      this.target.run(input);
    } catch (err) {
      if (!this.target.refusal(err)) result.findings.push({ input, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err) });
    }
  }

  /** Blocks of the target's modules reached since the last call (counts in buckets), not seen before. */
  private newBlocks(): number {
    let fresh = 0;
    const coverage = this.post('Profiler.takePreciseCoverage') as { result: Array<{ url: string; functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }> };
    for (const script of coverage.result) {
      if (!this.target.modules.test(script.url)) continue;
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          if (r.count === 0) continue;
          const key = `${script.url}:${r.startOffset}:${r.endOffset}:${bucket(r.count)}`;
          if (this.seen.has(key)) continue;
          this.seen.add(key);
          fresh++;
        }
      }
    }
    return fresh;
  }

  /** A corpus input changed in one to four ways. */
  private mutate(): Buffer {
    const rnd = this.rnd;
    let b = Buffer.from(rnd.pick(this.corpus));
    for (let n = 1 + rnd.below(4); n > 0; n--) {
      const at = b.length > 0 ? rnd.below(b.length) : 0;
      switch (rnd.below(7)) {
        case 0: // flip a bit
          if (b.length > 0) b[at] ^= 1 << rnd.below(8);
          break;
        case 1: // a byte to anything
          if (b.length > 0) b[at] = rnd.below(256);
          break;
        case 2: // a little-endian u32 to a value fields trip on
          if (b.length >= 4) b.writeUInt32LE(rnd.interesting(), rnd.below(b.length - 3) & ~(rnd.below(2) ? 3 : 0));
          break;
        case 3: // cut
          b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rnd.below(32)))]);
          break;
        case 4: // insert random bytes
          b = Buffer.concat([b.subarray(0, at), rnd.bytes(1 + rnd.below(16)), b.subarray(at)]);
          break;
        case 5: // repeat a piece
          b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1 + rnd.below(64)), b.subarray(at)]);
          break;
        default: {
          // splice with another input
          const other = rnd.pick(this.corpus);
          const from = other.length > 0 ? rnd.below(other.length) : 0;
          b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + rnd.below(128))]);
        }
      }
    }
    return b.length > MAX_INPUT ? b.subarray(0, MAX_INPUT) : b;
  }

  private post(method: string, params?: object): unknown {
    let out: unknown;
    let failure: Error | null = null;
    // The inspector answers a session in the same thread synchronously.
    this.session.post(method, params ?? {}, (err, res) => {
      failure = err;
      out = res;
    });
    if (failure) throw failure;
    return out;
  }
}

/** Hit counts in the buckets AFL uses: a loop that runs more often is a new behaviour. */
function bucket(count: number): number {
  return count <= 3 ? count : count <= 7 ? 4 : count <= 15 ? 8 : count <= 31 ? 16 : count <= 127 ? 32 : 128;
}
