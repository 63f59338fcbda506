/**
 * Byte layout of a slot: one memfd per registered process. docs/slot-layout.md is the
 * normative description; this file is its code. All integers are little-endian; every
 * state word is an aligned 32-bit integer accessed with Atomics.
 *
 *   [slot header 128 B][up direction: process -> proxy][down direction: proxy -> process]
 *   direction = [direction header 128 B][cell 0][cell 1]...[cell N-1]
 *   cell      = [cell header 64 B][cell data: cellDataBytes]
 */
import { BadSlotError } from '../errors.js';

export const SLOT_MAGIC = 0x544f4c53; // "SLOT" read as a little-endian u32
export const LAYOUT_VERSION = 1;

/** Byte offsets inside the slot header. */
export const SlotHeader = {
  MAGIC: 0,
  LAYOUT_VERSION: 4,
  SLOT_ID: 8,
  GENERATION: 12,
  CELL_COUNT: 16,
  CELL_DATA_BYTES: 20,
  UP_OFFSET: 24,
  DOWN_OFFSET: 28,
  TOTAL_BYTES: 32,
  MAX_MESSAGE_BYTES: 36,
  /** Bytes 40..127 are reserved: zero. */
  RESERVED: 40,
  SIZE: 128,
} as const;

/** Byte offsets inside a direction header. The two flags sit on separate cache lines. */
export const DirectionHeader = {
  READER_SLEEPING: 0,
  WRITER_WAITING: 64,
  SIZE: 128,
} as const;

/** Byte offsets inside a cell header. */
export const CellHeader = {
  WRITER_MARK: 0,
  READER_MARK: 4,
  USED_BYTES: 8,
  RECORD_COUNT: 12,
  SEQUENCE: 16,
  /** Bytes 20..63 are reserved: zero. */
  RESERVED: 20,
  SIZE: 64,
} as const;

/** The two directions of a slot. */
export const Direction = { UP: 'up', DOWN: 'down' } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export interface SlotGeometry {
  cellCount: number;
  cellDataBytes: number;
  maxMessageBytes: number;
}

export const GeometryLimits = {
  MIN_CELLS: 2,
  MAX_CELLS: 256,
  MIN_CELL_DATA: 256,
  MAX_CELL_DATA: 16 * 1024 * 1024,
  MAX_MESSAGE: 1024 * 1024 * 1024,
} as const;

export const DEFAULT_GEOMETRY: SlotGeometry = {
  cellCount: 8,
  cellDataBytes: 64 * 1024,
  maxMessageBytes: 16 * 1024 * 1024,
};

/** Where everything is, computed once from the geometry and never re-read from shared memory. */
export interface SlotLayout extends SlotGeometry {
  slotId: number;
  generation: number;
  cellStride: number;
  upOffset: number;
  downOffset: number;
  totalBytes: number;
}

export function checkGeometry(g: SlotGeometry): void {
  const { MIN_CELLS, MAX_CELLS, MIN_CELL_DATA, MAX_CELL_DATA, MAX_MESSAGE } = GeometryLimits;
  if (!Number.isInteger(g.cellCount) || g.cellCount < MIN_CELLS || g.cellCount > MAX_CELLS)
    throw new BadSlotError(`cellCount ${g.cellCount} is outside ${MIN_CELLS}..${MAX_CELLS}`);
  if (!Number.isInteger(g.cellDataBytes) || g.cellDataBytes < MIN_CELL_DATA || g.cellDataBytes > MAX_CELL_DATA || g.cellDataBytes % 64 !== 0)
    throw new BadSlotError(`cellDataBytes ${g.cellDataBytes} must be a multiple of 64 in ${MIN_CELL_DATA}..${MAX_CELL_DATA}`);
  if (!Number.isInteger(g.maxMessageBytes) || g.maxMessageBytes < 1 || g.maxMessageBytes > MAX_MESSAGE)
    throw new BadSlotError(`maxMessageBytes ${g.maxMessageBytes} is outside 1..${MAX_MESSAGE}`);
}

export function computeLayout(slotId: number, generation: number, g: SlotGeometry): SlotLayout {
  checkGeometry(g);
  const cellStride = CellHeader.SIZE + g.cellDataBytes;
  const directionBytes = DirectionHeader.SIZE + g.cellCount * cellStride;
  const upOffset = SlotHeader.SIZE;
  const downOffset = upOffset + directionBytes;
  return { ...g, slotId, generation, cellStride, upOffset, downOffset, totalBytes: downOffset + directionBytes };
}

/** Byte offset of a direction's first byte. */
export function directionOffset(layout: SlotLayout, direction: Direction): number {
  return direction === Direction.UP ? layout.upOffset : layout.downOffset;
}

/** Byte offset of cell `index`'s header within the slot. */
export function cellOffset(layout: SlotLayout, direction: Direction, index: number): number {
  return directionOffset(layout, direction) + DirectionHeader.SIZE + index * layout.cellStride;
}

/** Written once by the proxy when it creates the slot. */
export function writeSlotHeader(view: DataView, layout: SlotLayout): void {
  view.setUint32(SlotHeader.MAGIC, SLOT_MAGIC, true);
  view.setUint32(SlotHeader.LAYOUT_VERSION, LAYOUT_VERSION, true);
  view.setUint32(SlotHeader.SLOT_ID, layout.slotId, true);
  view.setUint32(SlotHeader.GENERATION, layout.generation, true);
  view.setUint32(SlotHeader.CELL_COUNT, layout.cellCount, true);
  view.setUint32(SlotHeader.CELL_DATA_BYTES, layout.cellDataBytes, true);
  view.setUint32(SlotHeader.UP_OFFSET, layout.upOffset, true);
  view.setUint32(SlotHeader.DOWN_OFFSET, layout.downOffset, true);
  view.setUint32(SlotHeader.TOTAL_BYTES, layout.totalBytes, true);
  view.setUint32(SlotHeader.MAX_MESSAGE_BYTES, layout.maxMessageBytes, true);
}

/**
 * Read by the process when it maps a slot: checks the header against what the proxy said
 * in its welcome, so a process never trusts a layout it was not promised.
 */
export function checkSlotHeader(view: DataView, expected: SlotLayout): void {
  const fields: Array<[string, number, number]> = [
    ['magic', SlotHeader.MAGIC, SLOT_MAGIC],
    ['layout version', SlotHeader.LAYOUT_VERSION, LAYOUT_VERSION],
    ['slot id', SlotHeader.SLOT_ID, expected.slotId],
    ['generation', SlotHeader.GENERATION, expected.generation],
    ['cell count', SlotHeader.CELL_COUNT, expected.cellCount],
    ['cell data bytes', SlotHeader.CELL_DATA_BYTES, expected.cellDataBytes],
    ['up offset', SlotHeader.UP_OFFSET, expected.upOffset],
    ['down offset', SlotHeader.DOWN_OFFSET, expected.downOffset],
    ['total bytes', SlotHeader.TOTAL_BYTES, expected.totalBytes],
    ['max message bytes', SlotHeader.MAX_MESSAGE_BYTES, expected.maxMessageBytes],
  ];
  for (const [name, offset, want] of fields) {
    const got = view.getUint32(offset, true);
    if (got !== want) throw new BadSlotError(`slot header ${name} is ${got}, expected ${want}`);
  }
  const reserved = firstNonZero(view, SlotHeader.RESERVED, SlotHeader.SIZE);
  if (reserved >= 0) throw new BadSlotError(`slot header byte ${reserved} is ${view.getUint8(reserved)}: bytes ${SlotHeader.RESERVED}..${SlotHeader.SIZE - 1} are reserved and must be zero`);
}

/** The offset of the first non-zero byte in `view[from, to)` (4-aligned range), or -1. */
export function firstNonZero(view: DataView, from: number, to: number): number {
  for (let at = from; at < to; at += 4) {
    if (view.getUint32(at, true) === 0) continue;
    while (view.getUint8(at) === 0) at++;
    return at;
  }
  return -1;
}
