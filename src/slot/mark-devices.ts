/**
 * The mark devices: the "virtual device driver" of claims 30–40. This module is the only
 * code that changes a cell's mark words or a direction's sleep/wait flags.
 *
 * Each cell of a direction has two mark devices:
 *   - the writer's mark:  WRITABLE | NOT_WRITABLE   (who may fill the cell)
 *   - the reader's mark:  NOT_READABLE | READABLE   (whether it holds data to read)
 * In the up direction (process -> proxy) the writer's mark is the *process mark device*
 * of claims 31–33 and the reader's mark is the *proxy mark device* of claims 34–38.
 * In the down direction (proxy -> process) the reader's mark is the process mark device
 * of claim 39.
 *
 * Transitions (every one a single Atomics store, so the other side sees it in order):
 *   writer: isWritable (32, 33) -> write data -> markWritten (31) -> signal (34, 35)
 *   reader: isReadable (36) -> read data -> release: reader NOT_READABLE (37, 39),
 *           then writer WRITABLE in response (38)
 *
 * Doorbell suppression: a side rings only when the other has said it will sleep
 * (READER_SLEEPING) or wait (WRITER_WAITING). The sleeper arms its flag, then re-checks
 * the cell it would wait on; the ringer changes the mark, then tests-and-clears the flag.
 * With sequentially consistent atomics one of the two always sees the other's store, so
 * no wake-up is lost and, under load, no system call is made per batch.
 */
import { BadSlotError } from '../errors.js';
import { CellHeader, DirectionHeader, cellOffset, directionOffset, type Direction, type SlotLayout } from './layout.js';

export const WriterMark = { WRITABLE: 0, NOT_WRITABLE: 1 } as const;
export type WriterMark = (typeof WriterMark)[keyof typeof WriterMark];

export const ReaderMark = { NOT_READABLE: 0, READABLE: 1 } as const;
export type ReaderMark = (typeof ReaderMark)[keyof typeof ReaderMark];

export const SleepFlag = { AWAKE: 0, SLEEPING: 1 } as const;
export const WaitFlag = { NOT_WAITING: 0, WAITING: 1 } as const;

/** Something that can wake the other side: an eventfd doorbell. */
export interface Ringable {
  ring(): void;
}

/** Counters kept by a device; read by stats snapshots. */
export interface MarkDeviceCounters {
  /** Doorbells rung because the other side had said it would sleep or wait. */
  rung: number;
  /** State changes that needed no doorbell because the other side was awake. */
  saved: number;
}

/** The mark devices of one direction of a slot: both marks of every cell, and the direction's two flags. */
export class MarkDevices {
  readonly counters: MarkDeviceCounters = { rung: 0, saved: 0 };
  private readonly writerMarkIndex: Int32Array;
  private readonly readerMarkIndex: Int32Array;
  private readonly sleepingIndex: number;
  private readonly waitingIndex: number;

  /**
   * @param words   Int32Array over the whole slot
   * @param wakeReader rings the reader of this direction
   * @param wakeWriter rings the writer of this direction
   */
  constructor(
    private readonly words: Int32Array,
    layout: SlotLayout,
    readonly direction: Direction,
    private readonly wakeReader: Ringable,
    private readonly wakeWriter: Ringable,
  ) {
    this.writerMarkIndex = new Int32Array(layout.cellCount);
    this.readerMarkIndex = new Int32Array(layout.cellCount);
    for (let i = 0; i < layout.cellCount; i++) {
      const base = cellOffset(layout, direction, i);
      this.writerMarkIndex[i] = (base + CellHeader.WRITER_MARK) >> 2;
      this.readerMarkIndex[i] = (base + CellHeader.READER_MARK) >> 2;
    }
    const dir = directionOffset(layout, direction);
    this.sleepingIndex = (dir + DirectionHeader.READER_SLEEPING) >> 2;
    this.waitingIndex = (dir + DirectionHeader.WRITER_WAITING) >> 2;
  }

  /** Current writer's mark of `cell`, checked: shared memory may hold anything. */
  writerMark(cell: number): WriterMark {
    const v = Atomics.load(this.words, this.writerMarkIndex[cell]!);
    if (v !== WriterMark.WRITABLE && v !== WriterMark.NOT_WRITABLE)
      throw new BadSlotError(`${this.direction} cell ${cell}: writer mark holds ${v}, expected ${WriterMark.WRITABLE} or ${WriterMark.NOT_WRITABLE}`);
    return v;
  }

  /** Current reader's mark of `cell`, checked. */
  readerMark(cell: number): ReaderMark {
    const v = Atomics.load(this.words, this.readerMarkIndex[cell]!);
    if (v !== ReaderMark.NOT_READABLE && v !== ReaderMark.READABLE)
      throw new BadSlotError(`${this.direction} cell ${cell}: reader mark holds ${v}, expected ${ReaderMark.NOT_READABLE} or ${ReaderMark.READABLE}`);
    return v;
  }

  // ---- writer side ----

  /** Claims 32, 33: the writer checks its mark before writing. */
  isWritable(cell: number): boolean {
    return this.writerMark(cell) === WriterMark.WRITABLE;
  }

  /** Claim 31: after writing, the writer's mark goes to NOT_WRITABLE. */
  markWritten(cell: number): void {
    Atomics.store(this.words, this.writerMarkIndex[cell]!, WriterMark.NOT_WRITABLE);
  }

  /**
   * Claims 34, 35: writing to its own device makes the reader's mark READABLE, and
   * rings the reader if (and only if) it said it was going to sleep.
   */
  signal(cell: number): void {
    Atomics.store(this.words, this.readerMarkIndex[cell]!, ReaderMark.READABLE);
    if (Atomics.compareExchange(this.words, this.sleepingIndex, SleepFlag.SLEEPING, SleepFlag.AWAKE) === SleepFlag.SLEEPING) {
      this.counters.rung++;
      this.wakeReader.ring();
    } else {
      this.counters.saved++;
    }
  }

  /**
   * Arms WRITER_WAITING, then re-checks `cell`. Returns true when the writer may wait for
   * its doorbell; false when the cell became writable meanwhile (flag cleared again).
   */
  writerWait(cell: number): boolean {
    Atomics.store(this.words, this.waitingIndex, WaitFlag.WAITING);
    if (this.isWritable(cell)) {
      Atomics.store(this.words, this.waitingIndex, WaitFlag.NOT_WAITING);
      return false;
    }
    return true;
  }

  // ---- reader side ----

  /** Claim 36: the reader learns there is data from the reader's mark being READABLE. */
  isReadable(cell: number): boolean {
    return this.readerMark(cell) === ReaderMark.READABLE;
  }

  /**
   * Claims 37 and 39: after reading, the reader's mark goes to NOT_READABLE; claim 38: in
   * response, the writer's mark returns to WRITABLE, and the writer is rung if it waits.
   */
  release(cell: number): void {
    Atomics.store(this.words, this.readerMarkIndex[cell]!, ReaderMark.NOT_READABLE);
    Atomics.store(this.words, this.writerMarkIndex[cell]!, WriterMark.WRITABLE);
    if (Atomics.compareExchange(this.words, this.waitingIndex, WaitFlag.WAITING, WaitFlag.NOT_WAITING) === WaitFlag.WAITING) {
      this.counters.rung++;
      this.wakeWriter.ring();
    } else {
      this.counters.saved++;
    }
  }

  /**
   * Arms READER_SLEEPING, then re-checks `cell`. Returns true when the reader may sleep
   * until its doorbell; false when data arrived meanwhile (flag cleared again).
   */
  readerSleep(cell: number): boolean {
    Atomics.store(this.words, this.sleepingIndex, SleepFlag.SLEEPING);
    if (this.isReadable(cell)) {
      Atomics.store(this.words, this.sleepingIndex, SleepFlag.AWAKE);
      return false;
    }
    return true;
  }

  /** Whether the reader has said it sleeps (for tests and stats). */
  readerIsSleeping(): boolean {
    return Atomics.load(this.words, this.sleepingIndex) === SleepFlag.SLEEPING;
  }

  /** Whether the writer has said it waits (for tests and stats). */
  writerIsWaiting(): boolean {
    return Atomics.load(this.words, this.waitingIndex) === WaitFlag.WAITING;
  }
}
