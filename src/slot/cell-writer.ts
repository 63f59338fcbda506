/**
 * The writing side of one direction: fills the open cell with records and commits it
 * through the mark device. Messages are packed many per cell; a message larger than a cell
 * is written as fragments and may be resumed later from a byte offset when the ring is full.
 */
import { CellHeader, cellOffset, type Direction, type SlotLayout } from './layout.js';
import type { MarkDevices } from './mark-devices.js';
import { RecordFlag, RecordHeader, WHOLE, recordBytes, writeRecord, type RecordKind } from './record.js';
import type { SlotMemory } from './slot-memory.js';

/** A fragment smaller than this is not worth starting at the end of a cell. */
const MIN_FRAGMENT = 64;

export class CellWriter {
  /** Cells committed so far (the batches). */
  cellsCommitted = 0;
  private cell = 0;
  private open = false;
  private used = 0;
  private records = 0;
  private sequence = 0;
  private readonly cellHeaders: number[] = [];
  private readonly cellData: number[] = [];
  private readonly capacity: number;

  constructor(private readonly mem: SlotMemory, layout: SlotLayout, direction: Direction, readonly device: MarkDevices) {
    for (let i = 0; i < layout.cellCount; i++) {
      const at = cellOffset(layout, direction, i);
      this.cellHeaders.push(at);
      this.cellData.push(at + CellHeader.SIZE);
    }
    this.capacity = layout.cellDataBytes;
  }

  /** Records in the open cell (0 when none is open). */
  get openRecords(): number {
    return this.open ? this.records : 0;
  }

  /** Index of the cell being filled, or to be filled next. */
  get currentCell(): number {
    return this.cell;
  }

  /**
   * Writes the message `source[start, end)` from `offset` on (start for a new message);
   * returns the offset reached: `end` when the whole message is in the slot, less when the
   * ring filled (call again later with that offset), and NO_ROOM when nothing was written.
   */
  writeMessage(kind: RecordKind, address: Uint8Array, requestId: number, source: Uint8Array, start: number, end: number, offset: number): number {
    const total = end - start;
    if (offset === start) {
      const size = recordBytes(address.length, total);
      if (size <= this.capacity) {
        if (!this.room(size)) return NO_ROOM;
        this.append(kind, WHOLE, address, requestId, source, start, total, total);
        return end;
      }
    }
    const from = offset;
    while (offset < end) {
      const first = offset === start;
      const addr = first ? address : EMPTY;
      const header = RecordHeader.SIZE + addr.length;
      if (!this.room(header + MIN_FRAGMENT)) return offset === from ? NO_ROOM : offset;
      const chunk = Math.min(end - offset, (this.capacity - this.used - header) & ~7);
      const flags = (first ? RecordFlag.FIRST : 0) | (offset + chunk === end ? RecordFlag.LAST : 0);
      this.append(kind, flags, addr, requestId, source, offset, chunk, total);
      offset += chunk;
    }
    return offset;
  }

  /** Commits the open cell if it holds anything: the end of a batch. */
  flush(): void {
    if (this.open && this.records > 0) this.commit();
  }

  /** Arms the writer-waiting flag; true when the writer should wait for its doorbell. */
  waitForSpace(): boolean {
    return this.device.writerWait(this.spaceCell());
  }

  /**
   * Whether any message can be written now: the cell after the open one (or the current
   * cell when none is open) is writable, so even a message needing a fresh cell fits.
   */
  hasSpace(): boolean {
    return this.device.isWritable(this.spaceCell());
  }

  private spaceCell(): number {
    return this.open ? (this.cell + 1) % this.cellHeaders.length : this.cell;
  }

  private room(bytes: number): boolean {
    if (this.open) {
      if (this.used + bytes <= this.capacity) return true;
      this.commit();
    }
    if (!this.device.isWritable(this.cell)) return false; // claims 32, 33
    this.open = true;
    this.used = 0;
    this.records = 0;
    return true;
  }

  private append(kind: RecordKind, flags: number, address: Uint8Array, requestId: number, payload: Uint8Array, start: number, bytes: number, total: number): void {
    const at = this.cellData[this.cell]! + this.used;
    this.used += writeRecord(this.mem.bytes, this.mem.view, at, kind, flags, address, requestId, payload, start, bytes, total);
    this.records++;
  }

  /**
   * Claim 31: closes the open cell — its header written, the writer's mark NOT_WRITABLE —
   * without telling the reader yet. Returns the cell; signal() it next.
   */
  seal(): number {
    const cell = this.cell;
    const h = this.cellHeaders[cell]!;
    const v = this.mem.view;
    v.setUint32(h + CellHeader.USED_BYTES, this.used, true);
    v.setUint32(h + CellHeader.RECORD_COUNT, this.records, true);
    v.setUint32(h + CellHeader.SEQUENCE, this.sequence, true);
    this.device.markWritten(cell);
    this.sequence = (this.sequence + 1) >>> 0;
    this.cell = (this.cell + 1) % this.cellHeaders.length;
    this.open = false;
    this.cellsCommitted++;
    return cell;
  }

  /** Claims 34, 35: makes a sealed cell readable, ringing the reader if it sleeps. */
  signal(cell: number): void {
    this.device.signal(cell);
  }

  private commit(): void {
    this.signal(this.seal());
  }
}

const EMPTY = new Uint8Array(0);

/** writeMessage() wrote nothing: no writable cell. */
export const NO_ROOM = -1;
