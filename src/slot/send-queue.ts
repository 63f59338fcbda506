/**
 * What waits for room in a slot, and in which order it goes in. A process's own mailbox
 * keeps one FIFO. The proxy's mailbox for a process is fed by many sources (local
 * processes, each peer's senders, the proxy's own answers): there each source waits in a
 * queue of its own and they take turns by deficit round robin (QUANTUM_BYTES per turn), so
 * a request or reply waits behind at most about one quantum of each other source's data,
 * not behind everything a bulk sender has queued. Each source's order is kept, and a
 * message that has begun (split across cells) is finished before another starts. A source is
 * told apart by its key (the sender's address, so a publisher's publications and sends to
 * one process keep their order whatever their subjects).
 */
import type { RecordKind } from './record.js';
import type { SlotlinkError } from '../errors.js';

/** Bytes (record header included) a source may write per turn. */
export const QUANTUM_BYTES = 4096;
/** What a record costs besides its payload and address, for turns. */
const RECORD_OVERHEAD = 16;

/** A message accepted by enqueue() and not yet (all) in the slot. */
export interface Pending {
  kind: RecordKind;
  address: Uint8Array;
  requestId: number;
  /** The message is source[start, end); offset is how far it has been written. */
  source: Uint8Array;
  start: number;
  end: number;
  offset: number;
  /** Runs once the whole message is in the slot. */
  done: (() => void) | null;
  /** Runs instead of `done` when the mailbox closes before the message is in the slot. */
  abandoned: ((reason: SlotlinkError) => void) | null;
  /** Which source's queue it waits in (fair queues): the sender's address bytes, by identity. */
  key: Uint8Array;
  /** Dropped before it began (Mailbox.cancel): it is passed over when its turn comes. */
  cancelled: boolean;
  /** Its `done` or `abandoned` has run: written, cancelled, or its mailbox closed. */
  settled: boolean;
}

/** One source's messages, in order. */
class SourceQueue {
  items: Pending[] = [];
  head = 0;
  deficit = 0;

  constructor(readonly key: Uint8Array) {}

  get empty(): boolean {
    return this.head === this.items.length;
  }
}

/** What a message counts against its source's turn: its payload, address and record header (nothing once cancelled). */
export function turnBytes(p: Pending): number {
  return p.cancelled ? 0 : RECORD_OVERHEAD + p.address.length + p.end - p.start;
}

export class SendQueue {
  /** Messages waiting. */
  size = 0;
  private readonly fifo = new SourceQueue(new Uint8Array(0));
  private readonly sources = new Map<Uint8Array, SourceQueue>();
  /** Sources with something waiting, in turn order; `turn` is the one writing now. */
  private round: SourceQueue[] = [];
  private turn: SourceQueue | null = null;

  /** `fair`: sources (told apart by their address bytes, by identity) take turns; else one FIFO. */
  constructor(private readonly fair: boolean) {}

  get empty(): boolean {
    return this.size === 0;
  }

  push(p: Pending): void {
    this.size++;
    if (!this.fair) return void this.fifo.items.push(p);
    let q = this.sources.get(p.key);
    if (!q) {
      q = new SourceQueue(p.key);
      this.sources.set(p.key, q);
      this.round.push(q);
    }
    q.items.push(p);
  }

  /** The message to write next (the one already begun, if any); undefined when none waits. */
  peek(): Pending | undefined {
    if (this.size === 0) return undefined;
    if (!this.fair) return this.fifo.items[this.fifo.head];
    for (;;) {
      const t = this.turn;
      if (t && !t.empty) {
        const p = t.items[t.head]!;
        if (p.offset > p.start || turnBytes(p) <= t.deficit) return p;
        this.round.push(t); // its turn is over; what it saved counts towards the next
      }
      const next = this.round.shift()!;
      next.deficit += QUANTUM_BYTES;
      this.turn = next;
    }
  }

  /** The message peek() returned is all in the slot. */
  shift(): void {
    this.size--;
    const q = this.fair ? this.turn! : this.fifo;
    const p = q.items[q.head]!;
    q.items[q.head++] = undefined as unknown as Pending;
    if (this.fair) q.deficit -= turnBytes(p);
    if (!q.empty) return;
    q.items = [];
    q.head = 0;
    q.deficit = 0;
    if (!this.fair) return;
    this.sources.delete(q.key);
    this.turn = null;
  }

  /** Takes everything waiting (the mailbox closed), each source's in order. */
  takeAll(): Pending[] {
    const all: Pending[] = [];
    for (const q of this.fair ? [...(this.turn ? [this.turn] : []), ...this.round] : [this.fifo]) all.push(...q.items.slice(q.head));
    this.fifo.items = [];
    this.fifo.head = 0;
    this.sources.clear();
    this.round = [];
    this.turn = null;
    this.size = 0;
    return all;
  }
}
