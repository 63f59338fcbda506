/**
 * DATA frames written to a peer and not yet acknowledged. Frames are packed into large
 * chunks as they are written (one socket write carries many); each flushed segment
 * remembers where each frame starts, so after a reconnect sending can resume exactly at
 * the first frame the peer has not delivered.
 */
import { dataFrameBytes, writeData } from './frame.js';
import type { RecordKind } from '../slot/record.js';

interface Segment {
  firstSeq: number;
  lastSeq: number;
  buf: Buffer;
  /** Offsets in `buf` of each frame, firstSeq first. */
  offsets: number[];
  /** Handed to the socket already. */
  written: boolean;
}

const CHUNK_BYTES = 256 * 1024;

export class ResendBuffer {
  /** Bytes held (flushed or not), until acknowledged. */
  bytes = 0;
  private chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private used = 0;
  private segmentStart = 0;
  private open: Segment | null = null;
  private readonly segments: Segment[] = [];

  get frames(): number {
    let n = this.open ? this.open.offsets.length : 0;
    for (const s of this.segments) n += s.lastSeq - s.firstSeq + 1;
    return n;
  }

  /** Appends a DATA frame with sequence `seq`. */
  append(seq: number, kind: RecordKind, requestId: number, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, start: number, end: number): void {
    const size = dataFrameBytes(src.length, dst.length, end - start);
    if (this.used + size > this.chunk.length) {
      this.close();
      this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, size));
      this.used = 0;
      this.segmentStart = 0;
    }
    if (!this.open) this.open = { firstSeq: seq, lastSeq: seq, buf: this.chunk, offsets: [], written: false };
    this.open.offsets.push(this.used - this.segmentStart);
    this.open.lastSeq = seq;
    writeData(this.chunk, this.used, seq, kind, requestId, src, dst, payload, start, end);
    this.used += size;
    this.bytes += size;
  }

  /** Everything not yet handed to the socket, in order; marks it written. */
  take(): Buffer[] {
    this.close();
    const out: Buffer[] = [];
    for (let i = this.segments.length - 1; i >= 0 && !this.segments[i]!.written; i--) out.push(this.segments[i]!.buf);
    for (let i = this.segments.length - out.length; i < this.segments.length; i++) this.segments[i]!.written = true;
    return out.reverse();
  }

  /** Drops every frame with sequence ≤ seq (only written frames can have been acknowledged). */
  ack(seq: number): void {
    while (this.segments.length > 0) {
      const s = this.segments[0]!;
      if (s.lastSeq <= seq) {
        this.bytes -= s.buf.length;
        this.segments.shift();
        continue;
      }
      if (s.firstSeq <= seq) {
        const k = seq - s.firstSeq + 1;
        const cut = s.offsets[k]!;
        this.bytes -= cut;
        s.buf = s.buf.subarray(cut);
        s.offsets = s.offsets.slice(k).map((o) => o - cut);
        s.firstSeq = seq + 1;
      }
      break;
    }
  }

  /** Everything after `seq`, written or not, as buffers to write in order; marks it written. */
  after(seq: number): Buffer[] {
    this.close();
    this.ack(seq);
    for (const s of this.segments) s.written = true;
    return this.segments.map((s) => s.buf);
  }

  /** Every frame held, for failing them back: (buffer, offset) pairs. */
  *all(): Generator<[Buffer, number]> {
    this.close();
    for (const s of this.segments) for (const o of s.offsets) yield [s.buf, o];
  }

  clear(): void {
    this.close();
    this.segments.length = 0;
    this.bytes = 0;
  }

  private close(): Segment | null {
    const s = this.open;
    if (!s) return null;
    s.buf = this.chunk.subarray(this.segmentStart, this.used);
    this.segmentStart = this.used;
    this.open = null;
    this.segments.push(s);
    return s;
  }
}
