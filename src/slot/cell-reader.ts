/**
 * The reading side of one direction: takes the next readable cell, copies it out of
 * shared memory, and releases it through the mark device. Parsing happens on the copy, so
 * a writer scribbling on the cell meanwhile cannot change what was checked.
 */
import { BadSlotError } from '../errors.js';
import { CellHeader, cellOffset, firstNonZero, type Direction, type SlotLayout } from './layout.js';
import { WriterMark, type MarkDevices } from './mark-devices.js';
import { RecordHeader } from './record.js';
import type { SlotMemory } from './slot-memory.js';

export class CellReader {
  /** Cells taken so far (the batches). */
  cellsTaken = 0;
  /** Record count of the cell last taken. */
  records = 0;
  private cell = 0;
  private sequence = 0;
  private readonly cellHeaders: number[] = [];
  private readonly capacity: number;

  constructor(private readonly mem: SlotMemory, layout: SlotLayout, private readonly direction: Direction, readonly device: MarkDevices) {
    for (let i = 0; i < layout.cellCount; i++) this.cellHeaders.push(cellOffset(layout, direction, i));
    this.capacity = layout.cellDataBytes;
  }

  get currentCell(): number {
    return this.cell;
  }

  /** The next cell's bytes (a private copy), or null when it is not readable yet. */
  take(): Buffer | null {
    if (!this.device.isReadable(this.cell)) return null; // claim 36
    // The writer marks a cell NOT_WRITABLE before READABLE: a readable cell still writable is corrupt.
    if (this.device.writerMark(this.cell) !== WriterMark.NOT_WRITABLE)
      throw new BadSlotError(`${this.direction} cell ${this.cell}: reader mark is READABLE but writer mark is WRITABLE`);
    const h = this.cellHeaders[this.cell]!;
    const v = this.mem.view;
    // Each field is read once into a local, checked, and only the local is used.
    const used = v.getUint32(h + CellHeader.USED_BYTES, true);
    const records = v.getUint32(h + CellHeader.RECORD_COUNT, true);
    const sequence = v.getUint32(h + CellHeader.SEQUENCE, true);
    const where = `${this.direction} cell ${this.cell}`;
    if (sequence !== this.sequence) throw new BadSlotError(`${where}: sequence ${sequence}, expected ${this.sequence} (cells must be committed in ring order)`);
    if (used > this.capacity) throw new BadSlotError(`${where}: usedBytes ${used} exceeds the cell's ${this.capacity} data bytes`);
    if (records === 0 || records * RecordHeader.SIZE > used) throw new BadSlotError(`${where}: recordCount ${records} does not fit in usedBytes ${used}`);
    const reserved = firstNonZero(v, h + CellHeader.RESERVED, h + CellHeader.SIZE);
    if (reserved >= 0) throw new BadSlotError(`${where}: header byte ${reserved - h} is ${v.getUint8(reserved)}: bytes ${CellHeader.RESERVED}..${CellHeader.SIZE - 1} are reserved and must be zero`);
    const start = h + CellHeader.SIZE;
    const copy = Buffer.allocUnsafe(used);
    copy.set(this.mem.bytes.subarray(start, start + used));
    this.device.release(this.cell); // claims 37, 38, 39
    this.records = records;
    this.sequence = (this.sequence + 1) >>> 0;
    this.cell = (this.cell + 1) % this.cellHeaders.length;
    this.cellsTaken++;
    return copy;
  }

  /** Arms the reader-sleeping flag; true when the reader may sleep until its doorbell. */
  sleep(): boolean {
    return this.device.readerSleep(this.cell);
  }
}
