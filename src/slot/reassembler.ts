/**
 * Joins fragments back into messages. One per direction reader: the direction has a single
 * writer, so at most one message is ever in flight; its buffer is bounded by the
 * maximum message size checked in the cursor. Whole messages never come here.
 */
import { BadRecordError } from '../errors.js';
import { RecordFlag, type MessageView, type RecordCursor, type RecordKind } from './record.js';

/** A reassembled message: address then payload in one buffer of its own. */
class Assembled implements MessageView {
  readonly addressStart = 0;
  readonly payloadStart: number;
  readonly payloadBytes: number;
  filled = 0;
  constructor(readonly kind: RecordKind, readonly requestId: number, readonly buffer: Buffer, readonly addressBytes: number) {
    this.payloadStart = addressBytes;
    this.payloadBytes = buffer.length - addressBytes;
  }
}

export class Reassembler {
  private pending: Assembled | null = null;

  /** Feeds the cursor's current fragment; returns the message once its last fragment is in. */
  push(c: RecordCursor): MessageView | null {
    const data = c.buffer;
    if (c.flags & RecordFlag.FIRST) {
      if (this.pending) throw new BadRecordError('a new fragmented message started before the previous one ended');
      const buffer = Buffer.allocUnsafe(c.addressBytes + c.messageBytes);
      data.copy(buffer, 0, c.addressStart, c.addressStart + c.addressBytes);
      this.pending = new Assembled(c.kind, c.requestId, buffer, c.addressBytes);
    } else {
      const p = this.pending;
      if (!p) throw new BadRecordError('a continuation fragment arrived with no message started');
      if (c.kind !== p.kind || c.requestId !== p.requestId || c.messageBytes !== p.payloadBytes)
        throw new BadRecordError(`a continuation fragment (kind ${c.kind}, requestId ${c.requestId}, messageBytes ${c.messageBytes}) does not match its message`);
    }
    const p = this.pending!;
    if (p.filled + c.payloadBytes > p.payloadBytes) throw new BadRecordError(`fragments add up to more than messageBytes ${p.payloadBytes}`);
    data.copy(p.buffer, p.payloadStart + p.filled, c.payloadStart, c.payloadStart + c.payloadBytes);
    p.filled += c.payloadBytes;
    if ((c.flags & RecordFlag.LAST) === 0) return null;
    if (p.filled !== p.payloadBytes) throw new BadRecordError(`the last fragment ended the message at ${p.filled} of ${p.payloadBytes} bytes`);
    this.pending = null;
    return p;
  }

  /** Bytes held for a message still being reassembled (for stats). */
  get heldBytes(): number {
    return this.pending ? this.pending.buffer.length : 0;
  }
}
