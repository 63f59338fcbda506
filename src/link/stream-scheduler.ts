/**
 * The link's scheduler: what leaves next when more waits than the link lets out. Messages
 * wait in streams, one per source and destination, and leave by deficit round robin: each
 * stream with something waiting takes its turn and sends up to QUANTUM_BYTES (a larger
 * message waits until its stream has saved enough turns), so a request arriving behind a
 * bulk stream waits for at most one quantum of each other stream, not for their queues.
 * Whether a message may leave (the link has room, its destination has credit) is the
 * link's to say (StreamWriter); a stream whose destination lacks credit steps out of the
 * round until a grant brings it back. A stream holds at most its limit before its source is
 * paused, so what waits here is bounded per source (the link sets it: small while the link is
 * up, so messages wait in the source's slot rather than as objects here; a credit window
 * while it is away, so a short outage of one link does not stop a source for all it sends).
 */
import type { Waiting } from './credit.js';
import type { OutCredit } from './send-credit.js';
import { DATA_MESSAGE_HEADER } from './frame.js';
import { Gate, type Pausable } from '../util/gate.js';

/** Bytes (payload + message header) a stream may send per turn. */
export const QUANTUM_BYTES = 4096;

/** What the link says of the message at a stream's head. */
export const Verdict = {
  /** It may be written now. */
  GO: 0,
  /** Its destination has no credit for it: the stream steps out until a grant. */
  NO_CREDIT: 1,
  /** The link has no room: everything waits until the peer acknowledges some. */
  NO_ROOM: 2,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface StreamWriter {
  check(credit: OutCredit, message: Waiting): Verdict;
  /** Writes the message (the scheduler has taken it off its stream). */
  write(credit: OutCredit, message: Waiting): void;
}

const StreamState = { IDLE: 0, IN_ROUND: 1, PARKED: 2 } as const;
type StreamState = (typeof StreamState)[keyof typeof StreamState];

/** Messages from one source to one destination, in the order they were sent. */
export class OutStream {
  readonly queue: Waiting[] = [];
  head = 0;
  /** Payload bytes waiting. */
  queuedBytes = 0;
  /** Bytes this stream may still send in its current turn, or saved towards a large message. */
  deficit = 0;
  state: StreamState = StreamState.IDLE;
  /** Where its source waits while the stream is over its limit. */
  readonly gate = new Gate();

  constructor(readonly from: Uint8Array, readonly credit: OutCredit) {}

  get waiting(): number {
    return this.queue.length - this.head;
  }
}

/** A message's share of a turn: what it adds to the link besides its frame's header. */
export function turnBytes(m: Waiting): number {
  return DATA_MESSAGE_HEADER + m.end - m.start;
}

export class StreamScheduler {
  /** Messages and payload bytes waiting in all streams. */
  queuedMessages = 0;
  queuedBytes = 0;
  private readonly streams = new Map<OutCredit, Map<Uint8Array, OutStream>>();
  private readonly parked = new Map<OutCredit, Set<OutStream>>();
  /** Streams with a turn due, in order; `round[roundHead]` is the one whose turn it is. */
  private round: OutStream[] = [];
  private roundHead = 0;
  /** The stream in the middle of its turn (a full link interrupted it). */
  private turn: OutStream | null = null;

  /**
   * `streamBytes`: payload bytes a stream holds before its source is paused (it goes on once
   * half of them left). `counters.creditStalls` counts the times a stream stepped out of the
   * round for lack of credit.
   */
  constructor(private streamBytes: number, private readonly counters: { creditStalls: number }) {}

  /** A new limit per stream; sources of streams now well under it go on. */
  setStreamBytes(bytes: number): void {
    if (bytes === this.streamBytes) return;
    this.streamBytes = bytes;
    for (const byFrom of this.streams.values()) for (const s of byFrom.values()) if (s.queuedBytes <= bytes / 2) s.gate.open();
  }

  /** Whether anything waits on the stream from `from` to `credit` (a new message must queue behind it). */
  holds(credit: OutCredit, from: Uint8Array): boolean {
    return this.streams.get(credit)?.has(from) ?? false;
  }

  /** Nothing waits: a new message may go straight to the link if it has room. */
  get idle(): boolean {
    return this.queuedMessages === 0;
  }

  /** Queues `m` on the stream from `m.from` to `credit`; pauses `m.src` if that stream is full. */
  enqueue(credit: OutCredit, m: Waiting, src: Pausable | null): void {
    let byFrom = this.streams.get(credit);
    if (!byFrom) this.streams.set(credit, (byFrom = new Map()));
    let s = byFrom.get(m.from);
    if (!s) byFrom.set(m.from, (s = new OutStream(m.from, credit)));
    s.queue.push(m);
    const bytes = m.end - m.start;
    s.queuedBytes += bytes;
    this.queuedBytes += bytes;
    this.queuedMessages++;
    credit.queuedMessages++;
    if (s.state === StreamState.IDLE) {
      s.state = StreamState.IN_ROUND;
      this.round.push(s);
    }
    // The source counts its own pauses (a slot's backPressureWaits).
    if (src && s.queuedBytes > this.streamBytes) s.gate.hold(src);
  }

  /**
   * Gives turns until nothing waits, every waiting stream lacks credit, or the link has no
   * room (then the stream whose turn it is keeps it, and goes on from there next time).
   */
  run(writer: StreamWriter): void {
    while (this.roundHead < this.round.length) {
      const s = this.round[this.roundHead]!;
      if (this.turn !== s) {
        this.turn = s;
        s.deficit += QUANTUM_BYTES;
      }
      let parked = false;
      while (s.head < s.queue.length) {
        const m = s.queue[s.head]!;
        const bytes = turnBytes(m);
        if (bytes > s.deficit) break;
        const verdict = writer.check(s.credit, m);
        if (verdict === Verdict.NO_ROOM) return;
        if (verdict === Verdict.NO_CREDIT) {
          parked = true;
          break;
        }
        this.take(s);
        s.deficit -= bytes;
        writer.write(s.credit, m);
        m.onSent?.();
      }
      this.turn = null;
      this.roundHead++;
      if (parked) this.park(s);
      else if (s.head === s.queue.length) this.retire(s);
      else this.round.push(s);
      if (this.roundHead > 1024 && this.roundHead * 2 > this.round.length) {
        this.round = this.round.slice(this.roundHead);
        this.roundHead = 0;
      }
    }
  }

  /** A grant for `credit`: its streams that waited for one take turns again. */
  unpark(credit: OutCredit): void {
    const set = this.parked.get(credit);
    if (!set) return;
    this.parked.delete(credit);
    for (const s of set) {
      s.state = StreamState.IN_ROUND;
      this.round.push(s);
    }
  }

  /** Every stream waiting for credit takes a turn again (a new connection, or limits changed). */
  unparkAll(): void {
    for (const credit of [...this.parked.keys()]) this.unpark(credit);
  }

  /** Drops every stream to `credit` (its session ended); returns what they held, and lets their sources go on. */
  drop(credit: OutCredit): Waiting[] {
    const byFrom = this.streams.get(credit);
    if (!byFrom) return [];
    this.streams.delete(credit);
    this.parked.delete(credit);
    const left: Waiting[] = [];
    for (const s of byFrom.values()) {
      for (let i = s.head; i < s.queue.length; i++) left.push(s.queue[i]!);
      this.queuedMessages -= s.waiting;
      this.queuedBytes -= s.queuedBytes;
      credit.queuedMessages -= s.waiting;
      s.queue.length = 0;
      s.head = 0;
      s.queuedBytes = 0;
      s.state = StreamState.IDLE;
      s.gate.open();
    }
    const dropped = new Set(byFrom.values());
    this.round = this.round.slice(this.roundHead).filter((s) => !dropped.has(s));
    this.roundHead = 0;
    if (this.turn && dropped.has(this.turn)) this.turn = null;
    return left;
  }

  private take(s: OutStream): void {
    const m = s.queue[s.head]!;
    s.queue[s.head++] = undefined as unknown as Waiting;
    const bytes = m.end - m.start;
    s.queuedBytes -= bytes;
    this.queuedBytes -= bytes;
    this.queuedMessages--;
    s.credit.queuedMessages--;
    if (s.queuedBytes <= this.streamBytes / 2) s.gate.open();
  }

  private park(s: OutStream): void {
    s.state = StreamState.PARKED;
    s.deficit = 0;
    this.counters.creditStalls++;
    let set = this.parked.get(s.credit);
    if (!set) this.parked.set(s.credit, (set = new Set()));
    set.add(s);
  }

  /** A stream with nothing left waiting leaves the round, and is forgotten. */
  private retire(s: OutStream): void {
    s.state = StreamState.IDLE;
    s.deficit = 0;
    s.queue.length = 0;
    s.head = 0;
    const byFrom = this.streams.get(s.credit);
    byFrom?.delete(s.from);
    if (byFrom && byFrom.size === 0) this.streams.delete(s.credit);
  }
}
