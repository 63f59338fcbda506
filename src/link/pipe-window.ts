/**
 * How many bytes a link lets be written and not yet acknowledged by its peer: what sits in
 * the kernel's buffers on both sides and in the peer proxy's hands. Whatever is written is
 * beyond the scheduler's reach (a FIFO), so this is kept small: twice the bytes the peer
 * acknowledges per round trip at the shortest round trip seen lately (an estimate of the
 * bandwidth-delay product, as BBR makes it; the factor 2 lets it grow while round trips stay
 * short), never below MIN_PIPE_BYTES nor above what the peer lets be unconsumed. Counting
 * acknowledgements works for TLS and plaintext alike and covers the receiving side's socket
 * buffer, which TCP_NOTSENT_LOWAT would not.
 */

/**
 * The least the pipe holds: one of the peer's reads (64 KiB). On loopback under load the
 * estimate stays near it, and a request's wait grew with it (requests under load, 64 B
 * bulk: p50 about 8 ms at 64 KiB, 20 ms at 128 KiB, 30 ms at 256 KiB, bulk rate within noise;
 * docs/benchmarks.md).
 */
export const MIN_PIPE_BYTES = 64 * 1024;
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
  limit = MIN_PIPE_BYTES;
  /** Shortest round trip seen lately (ms), or null before the first. */
  minRttMs: number | null = null;
  private minRttAt = 0;
  private ackedTotal = 0;
  private marks: Mark[] = [];
  private markHead = 0;
  private readonly rates: number[] = [];

  constructor(private readonly maxBytes: number) {}

  /** Whether `bytes` more may be written with `unacked` written and not acknowledged. */
  allows(unacked: number, bytes: number): boolean {
    return unacked === 0 || unacked + bytes <= this.limit;
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
    const bdp = Math.max(...this.rates) * this.minRttMs;
    this.limit = Math.min(this.maxBytes, Math.max(MIN_PIPE_BYTES, Math.ceil(2 * bdp)));
  }

  /** A new connection: writes not yet acknowledged are resent, so their marks say nothing. */
  restart(): void {
    this.marks = [];
    this.markHead = 0;
  }
}
