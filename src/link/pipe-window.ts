/**
 * How many bytes a link lets be written and not yet acknowledged by its peer: what sits in
 * the kernel's buffers on both sides and in the peer proxy's hands. Whatever is written is
 * beyond the scheduler's reach (a FIFO), so this is kept small: twice the bytes the peer
 * acknowledges per round trip at the shortest round trip seen lately (an estimate of the
 * bandwidth-delay product, as BBR makes it; the factor 2 lets it grow while round trips stay
 * short), never below a floor (below) nor above what the peer lets be unconsumed. Counting
 * acknowledgements works for TLS and plaintext alike and covers the receiving side's socket
 * buffer, which TCP_NOTSENT_LOWAT would not.
 */

import { QUANTUM_BYTES } from './stream-scheduler.js';

/**
 * The least the pipe holds: PIPE_MESSAGES messages of the average size written lately, and
 * at least MIN_PIPE_BYTES (one of the peer's reads), at most MAX_FLOOR_BYTES. On loopback
 * under load the estimate below stays near this floor, and it trades a request's wait
 * against the bulk rate: the receiving proxy's work grows with messages more than with bytes,
 * so a floor in bytes alone was either slow for large messages or deep for small ones
 * (`node dist/bench/loaded-requests.js --quick --requests 1000 --contenders slotlink --json`
 * with the floor set to each size, two runs each: 64 KiB gave 64 B bulk a loaded p50 of 6 ms
 * at 0.5 M msg/s and 4 KiB bulk 2 ms at 34 k msg/s; 256 KiB gave 17 ms at 0.63 M and 5 ms at 52 k).
 */
export const MIN_PIPE_BYTES = 64 * 1024;
export const MAX_FLOOR_BYTES = 256 * 1024;
export const PIPE_MESSAGES = 64;
/**
 * What requests and answers whose stream has nothing waiting (link.ts, mayExpress) may write
 * past the window: one quantum, so a request written while bulk fills the pipe waits behind
 * that pipe only, and sends and publications cannot grow the pipe through this allowance.
 */
export const EXPRESS_BYTES = QUANTUM_BYTES;
/** How long the shortest round trip counts before a longer one may replace it. */
const MIN_RTT_WINDOW_MS = 10_000;
/** Delivery-rate samples the estimate takes the largest of. */
const RATE_SAMPLES = 16;
/** Writes remembered for round-trip samples; older ones are dropped (fewer samples, nothing else). */
const MAX_MARKS = 256;

interface Mark {
  /** Last sequence number written by then. */
  seq: number;
  at: number;
  /** Bytes acknowledged in all when it was written. */
  acked: number;
}

export class PipeWindow {
  /** Twice the estimated bandwidth-delay product (0 before the first estimate). */
  private estimate = 0;
  /** Bytes per message written, averaged over the last few hundred. */
  private messageBytes = 0;
  /** Shortest round trip seen lately (ms), or null before the first. */
  private minRttMs: number | null = null;
  private minRttAt = 0;
  private ackedTotal = 0;
  private marks: Mark[] = [];
  private markHead = 0;
  private readonly rates: number[] = [];

  constructor(private readonly maxBytes: number) {}

  /** Bytes that may be written and not yet acknowledged. */
  get limit(): number {
    const floor = Math.min(MAX_FLOOR_BYTES, Math.max(MIN_PIPE_BYTES, PIPE_MESSAGES * this.messageBytes));
    return Math.min(this.maxBytes, Math.max(floor, this.estimate));
  }

  /** A message of `bytes` (payload) was written. */
  message(bytes: number): void {
    this.messageBytes += (bytes - this.messageBytes) / 256;
  }

  /** Whether `bytes` more may be written with `unacked` written and not acknowledged. */
  allows(unacked: number, bytes: number): boolean {
    return unacked === 0 || unacked + bytes <= this.limit;
  }

  /** Whether a request or answer may be written past bulk: within the window and EXPRESS_BYTES beyond it, which sends never take. */
  allowsExpress(unacked: number, bytes: number): boolean {
    return unacked + bytes <= this.limit + EXPRESS_BYTES;
  }

  /** Frames up to `seq` were handed to the connection at `now` (ms). */
  wrote(seq: number, now: number): void {
    const last = this.marks.length > this.markHead ? this.marks[this.marks.length - 1]! : null;
    if (last && last.seq >= seq) return;
    if (this.marks.length - this.markHead >= MAX_MARKS) this.markHead++;
    this.marks.push({ seq, at: now, acked: this.ackedTotal });
  }

  /** The peer acknowledged frames up to `seq` at `now`, `bytes` of them new. */
  acked(seq: number, bytes: number, now: number): void {
    this.ackedTotal += bytes;
    let mark: Mark | null = null;
    while (this.markHead < this.marks.length && this.marks[this.markHead]!.seq <= seq) mark = this.marks[this.markHead++]!;
    if (this.markHead > 64 && this.markHead * 2 > this.marks.length) {
      this.marks = this.marks.slice(this.markHead);
      this.markHead = 0;
    }
    if (!mark) return;
    const rtt = Math.max(now - mark.at, 0.01);
    if (this.minRttMs === null || rtt <= this.minRttMs || now - this.minRttAt > MIN_RTT_WINDOW_MS) {
      this.minRttMs = rtt;
      this.minRttAt = now;
    }
    this.rates.push((this.ackedTotal - mark.acked) / rtt);
    if (this.rates.length > RATE_SAMPLES) this.rates.shift();
    this.estimate = Math.ceil(2 * Math.max(...this.rates) * this.minRttMs);
  }

  /** A new connection: writes not yet acknowledged are resent, so their marks say nothing. */
  restart(): void {
    this.marks = [];
    this.markHead = 0;
  }
}
