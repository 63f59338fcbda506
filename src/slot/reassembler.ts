/**
 * Joins fragments back into messages. One per direction reader: the direction has a single
 * writer, so at most one message is ever in flight; its buffer is bounded by the
 * maximum message size checked in the cursor.
 */
import { BadRecordError } from '../errors.js';
import { RecordFlag, WHOLE, type RecordCursor, type RecordKind } from './record.js';

/** One message as read from a slot. `payload` may share memory with the cell copy. */
export interface Envelope {
  kind: RecordKind;
  /** Destination (up direction) or source (down direction). */
  address: string;
  requestId: number;
  payload: Buffer;
}

export class Reassembler {
  private pending: Envelope | null = null;
  private filled = 0;

  /** Feeds the cursor's current record; returns a message when one is complete. */
  push(c: RecordCursor): Envelope | null {
    const data = c.buffer;
    if (c.flags === WHOLE) {
      if (this.pending) throw new BadRecordError(`a whole message arrived while a ${this.pending.payload.length}-byte message was still missing ${this.pending.payload.length - this.filled} bytes`);
      return { kind: c.kind, address: c.address(), requestId: c.requestId, payload: data.subarray(c.payloadStart, c.payloadStart + c.payloadBytes) };
    }
    if (c.flags & RecordFlag.FIRST) {
      if (this.pending) throw new BadRecordError('a new fragmented message started before the previous one ended');
      this.pending = { kind: c.kind, address: c.address(), requestId: c.requestId, payload: Buffer.allocUnsafe(c.messageBytes) };
      this.filled = 0;
    } else {
      const p = this.pending;
      if (!p) throw new BadRecordError('a continuation fragment arrived with no message started');
      if (c.kind !== p.kind || c.requestId !== p.requestId || c.messageBytes !== p.payload.length)
        throw new BadRecordError(`a continuation fragment (kind ${c.kind}, requestId ${c.requestId}, messageBytes ${c.messageBytes}) does not match its message`);
    }
    const p = this.pending!;
    if (this.filled + c.payloadBytes > p.payload.length)
      throw new BadRecordError(`fragments add up to more than messageBytes ${p.payload.length}`);
    data.copy(p.payload, this.filled, c.payloadStart, c.payloadStart + c.payloadBytes);
    this.filled += c.payloadBytes;
    if ((c.flags & RecordFlag.LAST) === 0) return null;
    if (this.filled !== p.payload.length)
      throw new BadRecordError(`the last fragment ended the message at ${this.filled} of ${p.payload.length} bytes`);
    this.pending = null;
    return p;
  }

  /** Bytes held for a message still being reassembled (for stats). */
  get heldBytes(): number {
    return this.pending ? this.pending.payload.length : 0;
  }
}
