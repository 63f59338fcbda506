/**
 * An endpoint's status events, for `ep.status()`: each call gets an iterator of its own that
 * sees the events from then on. An iterator holds at most a fixed number of events its
 * reader has not taken; past that it forgets the oldest and counts them (`skipped`), so an
 * application that never reads it cannot make the endpoint grow. It ends when the endpoint
 * closes (after the events it holds), or when its reader calls return().
 */
import type { SlotlinkError } from '../errors.js';

export const StatusType = {
  /** The connection to the proxy was lost; the endpoint is about to register again. */
  DISCONNECTED: 'disconnected',
  /** An attempt to register again is due in `delayMs`. */
  RECONNECTING: 'reconnecting',
  /** Registered again, at a new address. */
  RECONNECTED: 'reconnected',
  /** A message sent with send() came back (the 'undeliverable' event says the same). */
  UNDELIVERABLE: 'undeliverable',
  /** A subscription could not keep up and messages to it were dropped. */
  SLOW: 'slow',
} as const;
export type StatusType = (typeof StatusType)[keyof typeof StatusType];

export type StatusEvent =
  /** `error`: why (SLOTLINK_ERR_PROXY_SHUTDOWN when the proxy said it was stopping). */
  | { type: typeof StatusType.DISCONNECTED; error: SlotlinkError }
  | { type: typeof StatusType.RECONNECTING; attempt: number; delayMs: number }
  | { type: typeof StatusType.RECONNECTED; address: string }
  | { type: typeof StatusType.UNDELIVERABLE; to: string; error: SlotlinkError }
  | { type: typeof StatusType.SLOW; subject: string; dropped: number };

export interface StatusIterator extends AsyncIterableIterator<StatusEvent> {
  /** Events this iterator forgot because its reader fell more than its bound behind. */
  readonly skipped: number;
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/** One status() iterator: the events its reader has not taken yet, bounded. */
class StatusReader implements StatusIterator {
  skipped = 0;
  private held: StatusEvent[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<StatusEvent>) => void) | null = null;
  private ended = false;

  constructor(private readonly maxHeld: number, private readonly detach: (r: StatusReader) => void) {}

  push(event: StatusEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      return w({ value: event, done: false });
    }
    if (this.held.length - this.head >= this.maxHeld) {
      this.held[this.head++] = undefined as unknown as StatusEvent;
      this.skipped++;
      if (this.head > this.maxHeld) {
        this.held = this.held.slice(this.head);
        this.head = 0;
      }
    }
    this.held.push(event);
  }

  /** No more events: the reader takes what is held, then is done. */
  end(): void {
    this.ended = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(DONE);
    }
  }

  next(): Promise<IteratorResult<StatusEvent>> {
    if (this.head < this.held.length) {
      const value = this.held[this.head]!;
      this.held[this.head++] = undefined as unknown as StatusEvent;
      if (this.head === this.held.length) {
        this.held = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The reader is done with it: it holds nothing more and sees no more events. */
  return(): Promise<IteratorResult<StatusEvent>> {
    this.held = [];
    this.head = 0;
    this.end();
    this.detach(this);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): StatusReader {
    return this;
  }
}

/** Where an endpoint publishes its status events, to every iterator open on it. */
export class StatusFeed {
  private readonly readers = new Set<StatusReader>();
  private ended = false;

  constructor(private readonly maxHeld: number) {}

  /** A new iterator that sees the events from now on (none, once the feed has ended). */
  subscribe(): StatusIterator {
    const reader = new StatusReader(this.maxHeld, (r) => this.readers.delete(r));
    if (this.ended) reader.end();
    else this.readers.add(reader);
    return reader;
  }

  push(event: StatusEvent): void {
    for (const r of this.readers) r.push(event);
  }

  /** The endpoint closed: every iterator ends once its reader has taken what it holds. */
  end(): void {
    this.ended = true;
    for (const r of this.readers) r.end();
    this.readers.clear();
  }

  /** Iterators open now. */
  get size(): number {
    return this.readers.size;
  }
}
