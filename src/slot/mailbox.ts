/**
 * A mailbox: one side's use of a slot. It reads what the other side committed, writes
 * what this side sends (queueing what does not fit yet), batches writes into cells until
 * the end of the current turn of the event loop, and sleeps on its doorbell only after
 * telling the other side so. Used the same way by a process and by the proxy. (Over 250
 * lines: reading and writing share one service loop, one doorbell and one failure.)
 */
import { ClosedError, SlotlinkError, SyscallError } from '../errors.js';
import { copyBytes } from '../util/bytes.js';
import { NO_ROOM } from './cell-writer.js';
import { isAwaited, type MessageView, type RecordKind } from './record.js';
import { ReadSpin } from './read-spin.js';
import { RecordReader } from './record-reader.js';
import { SendQueue, type Pending } from './send-queue.js';
import type { Slot } from './slot.js';

export interface MailboxHandler {
  /** A complete message arrived; the view is valid during this call only. May call pauseReading(). */
  onMessage(message: MessageView): void;
  /** The slot holds bad data or a system call failed: this mailbox is finished. */
  onFailure(error: SlotlinkError): void;
  /** Everything queued has been written into the slot. */
  onDrained?(): void;
}

/** A mailbox's snapshot: its counters, its slot's, and its state now. */
export interface MailboxStats extends MailboxCounters {
  /** Cells (batches) read from / committed to the slot. */
  cellsIn: number;
  cellsOut: number;
  /** Doorbells rung (the other side slept or waited), and state changes that needed none. */
  doorbellsRung: number;
  doorbellsSaved: number;
  /** Bytes waiting for room in the slot. */
  queuedBytes: number;
  /** True while this side does not read the slot. */
  readingPaused: boolean;
  /** True while a writer waits for the other side to free a cell. */
  waitingForSlot: boolean;
}

/** Plain counters; copied into stats snapshots. */
export interface MailboxCounters {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  /** Times a writer found no writable cell and had to wait. */
  writerWaits: number;
  /** Times the reader went to sleep on its doorbell. */
  sleeps: number;
}

/** Someone waiting for room in the slot. */
interface SpaceWaiter {
  resolve: () => void;
  reject: (reason: SlotlinkError) => void;
}

/**
 * Bytes of records read per turn before yielding to the rest of the loop (the record that
 * crosses it is read whole; the rest of a cell waits for the next turn): one default cell.
 * A proxy reads many slots and its link in one loop, and a process may receive a stream
 * while it answers requests: what else came in waits for at most this much of one slot's
 * messages at a time. (It was 32 cells, 2 MiB by default; in `node
 * dist/bench/loaded-requests.js`, with the responder also receiving 64 B bulk, the p99 fell
 * to about a third: docs/benchmarks.md.)
 */
export const READ_BYTES_PER_TURN = 64 * 1024;

export class Mailbox {
  readonly counters: MailboxCounters = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0, writerWaits: 0, sleeps: 0 };
  /** Bytes accepted by enqueue() and not yet in the slot. */
  pendingBytes = 0;
  private readonly queue: SendQueue;
  private spaceWaiters: SpaceWaiter[] = [];
  private waitingForSpace = false;
  private readPaused = false;
  private flushScheduled = false;
  private serviceScheduled = false;
  private closed = false;
  /** Set once the slot's memory was found bad: nothing touches it again. */
  private failure: SlotlinkError | null = null;
  private readonly records: RecordReader;

  /**
   * `fairAcrossSources`: what waits for room takes turns by its records' address (the
   * proxy's side, where the address is the sender); else it goes in the order sent.
   */
  constructor(readonly slot: Slot, private readonly handler: MailboxHandler, fairAcrossSources = false) {
    this.records = new RecordReader(slot.layout.maxMessageBytes);
    this.queue = new SendQueue(fairAcrossSources);
  }

  /** Starts watching the doorbell and reads anything already waiting. */
  start(keepAlive = false): void {
    this.slot.ownBell.watch(() => this.service(), keepAlive);
    this.service();
  }

  stats(): MailboxStats {
    const s = this.slot;
    return {
      ...this.counters,
      cellsIn: s.reader.cellsTaken,
      cellsOut: s.writer.cellsCommitted,
      doorbellsRung: s.up.counters.rung + s.down.counters.rung,
      doorbellsSaved: s.up.counters.saved + s.down.counters.saved,
      queuedBytes: this.pendingBytes,
      readingPaused: this.readPaused,
      waitingForSlot: this.waitingForSpace,
    };
  }

  /** Whether the writer is waiting for the other side to free a cell. */
  get waitingForSlot(): boolean {
    return this.waitingForSpace;
  }

  /** Whether anything is queued behind the slot. */
  get backlogged(): boolean {
    return !this.queue.empty;
  }

  /**
   * Writes the message `source[start, end)` now if the slot has room and nothing is queued
   * before it; false when the caller must wait (or enqueue). A message too big for one cell
   * that has started is finished from the queue, so true means "accepted, in order".
   */
  trySend(kind: RecordKind, address: Uint8Array, requestId: number, source: Uint8Array, start = 0, end = source.length): boolean {
    if (this.closed || this.failure || this.backlogged) return false;
    let reached: number;
    try {
      reached = this.slot.writer.writeMessage(kind, address, requestId, source, start, end, start);
    } catch (err) {
      // The slot's own memory is bad: this mailbox fails; the caller, who did nothing wrong, queues.
      this.fail(err);
      return false;
    }
    if (reached === NO_ROOM) return false;
    this.written(kind, reached === end);
    if (reached < end) {
      // The caller may reuse `source` once this returns: finish from a copy of the message
      // (same length, so the fragments that follow still describe the same message).
      const copy = copyBytes(source, start, end);
      this.push({ kind, address, requestId, source: copy, start: 0, end: copy.length, offset: reached - start, done: null, abandoned: null, key: address, cancelled: false, settled: false });
      this.pump();
      return true;
    }
    this.count(end - start);
    return true;
  }

  /**
   * Queues `source[start, end)` behind whatever is queued; `done` runs once it is all in the
   * slot (or it was cancelled), `abandoned` if the mailbox closes first (close() hands such
   * messages back). `key` tells its source apart in a fair mailbox (default: the address).
   * Returns the queued message, for cancel(); null when it did not stay queued: written
   * before this returns (the slot had room after all: `done` has run) or the mailbox had
   * closed (`abandoned` has run).
   */
  enqueue(kind: RecordKind, address: Uint8Array, requestId: number, source: Uint8Array, done: (() => void) | null = null, start = 0, end = source.length, abandoned: ((reason: SlotlinkError) => void) | null = null, key = address): Pending | null {
    const p: Pending = { kind, address, requestId, source, start, end, offset: start, done, abandoned, key, cancelled: false, settled: false };
    if (this.closed) {
      abandoned?.(this.closedReason());
      return null;
    }
    this.push(p);
    if (!this.waitingForSpace && !this.failure) this.pump();
    return p.settled ? null : p;
  }

  /**
   * Drops a queued message that has not begun to be written (a subscription that drops its
   * oldest): its bytes stop counting and its `done` runs at once (what it held, such as a
   * link's credit, is free now); it is passed over when its turn comes. False when it has
   * begun, was written, or was cancelled already.
   */
  cancel(p: Pending): boolean {
    if (p.cancelled || p.offset !== p.start || this.closed) return false;
    p.cancelled = true;
    p.settled = true;
    this.pendingBytes -= p.end - p.start;
    const done = p.done;
    p.done = null;
    p.abandoned = null;
    done?.();
    return true;
  }

  /** Resolves once nothing is queued and the slot can take a message; rejects if the mailbox closes first. */
  whenWritable(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedReason());
    return new Promise((resolve, reject) => {
      this.spaceWaiters.push({ resolve, reject });
      if (!this.backlogged && !this.waitingForSpace && !this.failure) this.pump();
    });
  }

  /** Stops reading the slot (the consumer is full); the writer then waits on us. */
  pauseReading(): void {
    this.readPaused = true;
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.scheduleService();
  }

  get readingPaused(): boolean {
    return this.readPaused;
  }

  /** Commits the open cell now instead of at the end of the turn. */
  flush(): void {
    this.flushScheduled = false;
    this.commit();
  }

  /** Commits the open cell, leaving a flush scheduled for the end of the turn in place. */
  private commit(): void {
    if (this.closed || this.failure) return;
    try {
      this.slot.writer.flush();
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Reads every committed cell, paused or not (at most one ring's worth), and writes out
   * what it can: used when the other side has gone, so nothing it committed is lost.
   */
  drainAll(): void {
    if (!this.readRemaining()) return;
    this.pump();
    this.flush();
  }

  /**
   * Reads every committed cell, paused or not, and writes nothing: the other side has gone
   * for good. False when the mailbox is closed or failed (now or meanwhile).
   */
  readRemaining(): boolean {
    if (this.closed || this.failure) return false;
    try {
      while (this.readSome(Infinity) > 0) if (this.closed) return false;
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /**
   * Takes back everything queued and not yet (all) in the slot, settling none of it: the
   * other side has gone, and the owner writes it into another slot. A message begun here
   * starts over from its first byte (its first fragments went with this slot, unread).
   */
  takeQueued(): Pending[] {
    const left = this.queue.takeAll();
    this.pendingBytes = 0;
    for (const p of left) p.offset = p.start;
    return left;
  }

  /**
   * Ends the mailbox. Every message queued and not yet in the slot is abandoned: its
   * `abandoned` callback runs with `reason`, and the list is returned for the owner to
   * account for (fail back, return credit). Whoever waits for room is rejected.
   */
  close(reason: SlotlinkError = this.closedReason()): Pending[] {
    if (this.closed) return [];
    this.closed = true;
    this.closeReason = reason;
    this.slot.close();
    const left = this.queue.takeAll();
    this.pendingBytes = 0;
    for (const p of left) {
      p.settled = true;
      p.abandoned?.(reason);
    }
    for (const w of this.spaceWaiters.splice(0)) w.reject(reason);
    return left;
  }

  private closeReason: SlotlinkError | null = null;

  private closedReason(): SlotlinkError {
    return this.closeReason ?? this.failure ?? new ClosedError('the slot');
  }

  /** The doorbell rang (or we were told to look): read, write, then sleep or go on. */
  private service(): void {
    this.serviceScheduled = false;
    if (this.closed || this.failure) return;
    try {
      let budget = READ_BYTES_PER_TURN;
      while (!this.readPaused && budget > 0) {
        const read = this.readSome(budget);
        if (read === 0) break;
        budget -= read;
        if (this.closed) return;
      }
      const now = performance.now();
      if (budget < READ_BYTES_PER_TURN) this.spin.read(now);
      if (this.waitingForSpace || this.backlogged) {
        this.waitingForSpace = false;
        this.pump();
      }
      if (this.closed || this.readPaused) return;
      // Messages coming quickly: look again next turn instead of sleeping (read-spin.ts).
      if (budget <= 0 || this.records.midCell || this.spin.keepLooking(now) || !this.slot.reader.sleep()) this.scheduleService();
      else this.counters.sleeps++;
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reads up to `budget` bytes of records, of the cell begun or else the next committed one; 0 when there is none. */
  private readSome(budget: number): number {
    if (!this.records.midCell) {
      const data = this.slot.reader.take();
      if (!data) return 0;
      this.records.start(data, this.slot.reader.records);
    }
    return this.records.read(this.onRecord, budget);
  }

  /** Whether to look again rather than sleep when the slot is empty. */
  private readonly spin = new ReadSpin();

  /** One message read from the slot: counted and handed over; false stops the cell (the mailbox closed). */
  private readonly onRecord = (message: MessageView): boolean => {
    this.counters.messagesIn++;
    this.counters.bytesIn += message.payloadBytes;
    this.handler.onMessage(message);
    return !this.closed;
  };

  private push(p: Pending): void {
    this.queue.push(p);
    this.pendingBytes += p.end - p.offset;
  }

  private pump(): void {
    try {
      this.write();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Writes queued messages into the slot until it is full or the queue is empty. */
  private write(): void {
    const writer = this.slot.writer;
    for (let p = this.queue.peek(); p; p = this.queue.peek()) {
      if (p.cancelled) {
        this.queue.shift();
        continue;
      }
      const reached = writer.writeMessage(p.kind, p.address, p.requestId, p.source, p.start, p.end, p.offset);
      if (reached !== NO_ROOM) {
        this.pendingBytes -= reached - p.offset;
        p.offset = reached;
      }
      if (reached === NO_ROOM || reached < p.end) {
        this.scheduleFlush();
        if (writer.waitForSpace()) {
          this.waitingForSpace = true;
          this.counters.writerWaits++;
          return;
        }
        continue;
      }
      this.queue.shift();
      this.written(p.kind, true);
      this.count(p.end - p.start);
      p.settled = true;
      p.done?.();
    }
    this.scheduleFlush();
    if (this.spaceWaiters.length > 0) {
      if (!writer.hasSpace() && writer.waitForSpace()) {
        this.waitingForSpace = true;
        this.counters.writerWaits++;
      } else {
        for (const w of this.spaceWaiters.splice(0)) w.resolve();
      }
    }
    this.handler.onDrained?.();
  }

  private count(bytes: number): void {
    this.counters.messagesOut++;
    this.counters.bytesOut += bytes;
  }

  /**
   * A message was written (`whole`: all of it). Cells are committed at the end of the turn, so
   * a turn's messages share one; but a request or answer that opened a cell is committed now:
   * someone waits on it, and the rest of this turn (bulk for other slots, a link's chunk) would
   * hold it. Whatever follows it this turn shares the next cell.
   */
  private written(kind: RecordKind, whole: boolean): void {
    if (whole && isAwaited(kind) && this.slot.writer.openRecords === 1) this.commit();
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private scheduleService(): void {
    if (this.serviceScheduled) return;
    this.serviceScheduled = true;
    setImmediate(() => this.service());
  }

  /**
   * The slot's memory or a system call failed. The mailbox stops touching the slot at once
   * and its owner hears of it on the next microtask, so whoever was writing into this slot
   * (another slot's service, a link's delivery) finishes its own work undisturbed.
   */
  private fail(err: unknown): void {
    if (this.failure || this.closed) return;
    const error = err instanceof SlotlinkError ? err : new SyscallError('slot mailbox', err);
    this.failure = error;
    queueMicrotask(() => {
      if (!this.closed) this.handler.onFailure(error);
    });
  }
}
