/**
 * DATA frames written to a peer and not yet acknowledged. Frames are packed into large
 * chunks as they are written (one socket write carries many); each flushed segment
 * remembers where each frame starts, so after a reconnect sending can resume exactly at
 * the first frame the peer has not delivered. Consecutive messages from the same source to
 * the same destination share a frame (a run), so they share its header and addresses.
 */
import { DATA_MESSAGE_HEADER, dataHeaderBytes, writeDataHeader, writeDataMessage } from './frame.js';
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
/** A run stops growing past this size, so no frame holds up the ones behind it for long. */
const RUN_BYTES = 64 * 1024;

export class ResendBuffer {
  /** Bytes held (flushed or not), until acknowledged. */
  bytes = 0;
  private chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private used = 0;
  private segmentStart = 0;
  private open: Segment | null = null;
  private readonly segments: Segment[] = [];
  /** The frame still open for more messages: where it starts, and its addresses (by identity). */
  private runAt = -1;
  private runSrc: Uint8Array | null = null;
  private runDst: Uint8Array | null = null;

  get frames(): number {
    let n = this.open ? this.open.offsets.length : 0;
    for (const s of this.segments) n += s.lastSeq - s.firstSeq + 1;
    return n;
  }

  /**
   * Appends a message from `src` to `dst`: to the open frame when that frame goes from the
   * same `src` to the same `dst` (the same arrays) and has room, else to a new frame
   * numbered `seq`, whose destination's credit offset is `offset` (the units sent to `dst`
   * before this message). Returns true when it started that new frame.
   */
  append(src: Uint8Array, dst: Uint8Array, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number, seq: number, offset: number): boolean {
    const messageBytes = DATA_MESSAGE_HEADER + end - start;
    const extend = this.runAt >= 0 && src === this.runSrc && dst === this.runDst && this.used - this.runAt + messageBytes <= RUN_BYTES && this.used + messageBytes <= this.chunk.length;
    if (!extend) {
      const size = dataHeaderBytes(src.length, dst.length) + messageBytes;
      if (this.used + size > this.chunk.length) {
        this.close();
        this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, size));
        this.used = 0;
        this.segmentStart = 0;
      }
      if (!this.open) this.open = { firstSeq: seq, lastSeq: seq, buf: this.chunk, offsets: [], written: false };
      this.open.offsets.push(this.used - this.segmentStart);
      this.open.lastSeq = seq;
      this.runAt = this.used;
      this.runSrc = src;
      this.runDst = dst;
      const header = writeDataHeader(this.chunk, this.used, seq, offset, src, dst);
      this.used += header;
      this.bytes += header;
    }
    writeDataMessage(this.chunk, this.runAt, this.used, kind, requestId, payload, start, end);
    this.used += messageBytes;
    this.bytes += messageBytes;
    return !extend;
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

  clear(): void {
    this.close();
    this.segments.length = 0;
    this.bytes = 0;
  }

  private close(): Segment | null {
    this.runAt = -1;
    this.runSrc = this.runDst = null;
    const s = this.open;
    if (!s) return null;
    s.buf = this.chunk.subarray(this.segmentStart, this.used);
    this.segmentStart = this.used;
    this.open = null;
    this.segments.push(s);
    return s;
  }
}
