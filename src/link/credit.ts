/**
 * Credit per destination. The receiving proxy grants, for each destination key (the address
 * as the sending proxy wrote it), an absolute limit: "you may have sent up to byte N for
 * this destination". It raises the limit as messages leave its queue for the receiver's
 * slot. Absolute limits make re-sending grants after a reconnect harmless.
 */
import type { LocalSlot } from '../proxy/local-slot.js';
import type { RecordKind } from '../slot/record.js';

/** A message waiting for credit; payload is a range of the cell copy it came from. */
export interface Waiting {
  from: Uint8Array;
  src: LocalSlot | null;
  kind: RecordKind;
  requestId: number;
  payload: Uint8Array;
  start: number;
  end: number;
}

/** Sending side, one per destination key. */
export class OutCredit {
  /** Payload bytes sent for this destination in this session. */
  sent = 0;
  limit: number;
  readonly waiting: Waiting[] = [];
  /** Local slots paused until this destination has credit again. */
  readonly blocked = new Set<LocalSlot>();

  constructor(readonly key: Uint8Array, readonly window: number) {
    this.limit = window;
  }

  /** A message of `bytes` may go now: within the limit, or alone (nothing outstanding). */
  allows(bytes: number): boolean {
    return this.sent + bytes <= this.limit || this.sent <= this.limit - this.window;
  }

  reset(): void {
    this.sent = 0;
    this.limit = this.window;
  }
}

/** Receiving side, one per destination key. */
export class InCredit {
  /** Payload bytes that have left this proxy's queue into a slot (or were answered). */
  consumed = 0;
  /** The last limit granted. */
  granted: number;

  constructor(readonly key: Buffer, readonly window: number) {
    this.granted = window;
  }

  /** The new limit to grant, or -1 when the last grant is still ample. */
  due(): number {
    const limit = this.consumed + this.window;
    return limit - this.granted >= this.window / 2 ? limit : -1;
  }
}
