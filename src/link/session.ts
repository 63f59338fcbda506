/**
 * A session: the pair of proxy incarnations a link's sequence numbers belong to. It
 * outlives connections: each direction numbers its DATA frames, the sender keeps them until
 * acknowledged and resends the rest on a new connection, the receiver takes each once, in
 * order. A peer with a new incarnation restarted: a new session begins.
 */
import { ErrorCode, SlotlinkError } from '../errors.js';
import type { RecordKind } from '../slot/record.js';
import { encodeAck } from './frame.js';
import { ResendBuffer } from './resend-buffer.js';

export class Session {
  /** The peer's incarnation this session is with (null before the first connection). */
  peerIncarnation: string | null = null;
  /** Highest DATA seq received in order from the peer. */
  delivered = 0;
  private sendSeq = 0;
  private ackedUpTo = 0;
  private readonly resend = new ResendBuffer();

  constructor(private readonly incarnation: string) {}

  /** DATA frames sent and not yet acknowledged, and their bytes. */
  get framesInFlight(): number {
    return this.resend.frames;
  }

  get unackedBytes(): number {
    return this.resend.bytes;
  }

  /** The sequence number of the last DATA frame begun. */
  get lastSeq(): number {
    return this.sendSeq;
  }

  /** Adds a message to the outgoing stream (a new frame, or the open run's). */
  append(from: Uint8Array, dst: Uint8Array, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number, offset: number): void {
    if (this.resend.append(from, dst, kind, requestId, payload, start, end, this.sendSeq + 1, offset)) this.sendSeq++;
  }

  /** Frames not yet handed to a connection, then an ACK if one is due: what the next write carries. */
  *outgoing(): Generator<Buffer> {
    yield* this.resend.take();
    const ack = this.ackDue();
    if (ack) yield ack;
  }

  /** A DATA frame numbered `seq` arrived: true to take it, false for a duplicate. Throws if it skips ahead. */
  receive(seq: number): boolean {
    if (seq <= this.delivered) return false;
    if (seq !== this.delivered + 1) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `DATA frame: sequence ${seq} skips ahead of ${this.delivered + 1}`);
    return true;
  }

  /** The frame `receive` accepted has been taken. */
  received(seq: number): void {
    this.delivered = seq;
  }

  /** The peer has frames up to `seq`; returns the bytes that frees. */
  ack(seq: number): number {
    if (seq > this.sendSeq) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `ACK frame: sequence ${seq} was never sent (last sent ${this.sendSeq})`);
    const before = this.resend.bytes;
    this.resend.ack(seq);
    return before - this.resend.bytes;
  }

  /**
   * A new connection: the peer's incarnation, its own idea of ours, and what it received.
   * Returns whether the peer restarted (a new session began: the caller fails back what the
   * old one held) and the frames to resend, in order, before anything new.
   */
  resume(peerIncarnation: string, peerKnowsUs: string | null, peerDelivered: number): { restarted: boolean; resend: Buffer[] } {
    const restarted = this.peerIncarnation !== null && peerIncarnation !== this.peerIncarnation;
    if (peerIncarnation !== this.peerIncarnation) {
      if (restarted) {
        this.resend.clear();
        this.sendSeq = 0;
      }
      this.peerIncarnation = peerIncarnation;
      this.delivered = 0;
      this.ackedUpTo = 0;
    }
    // What the peer received refers to our sequence only if it knows this incarnation of us.
    const delivered = peerKnowsUs === this.incarnation ? peerDelivered : 0;
    if (delivered > this.sendSeq) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `HELLO: peer says it delivered ${delivered}, but only ${this.sendSeq} were sent`);
    return { restarted, resend: this.resend.after(delivered) };
  }

  /** An ACK for what was received since the last one, or null when nothing new was. */
  ackDue(): Buffer | null {
    if (this.delivered <= this.ackedUpTo) return null;
    this.ackedUpTo = this.delivered;
    return encodeAck(this.delivered);
  }

  /** The ACK to send on a new connection, if anything was received. */
  ackNow(): Buffer | null {
    if (this.delivered === 0) return null;
    this.ackedUpTo = this.delivered;
    return encodeAck(this.delivered);
  }
}
