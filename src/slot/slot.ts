/**
 * A slot: one process's private region of shared memory (its own memfd), its two
 * directions with their mark devices, and its two doorbells. The proxy creates it and
 * hands the descriptors to the process alone; the process attaches to what it was given.
 */
import { BadSlotError, SyscallError } from '../errors.js';
import { Seal, native } from '../native/binding.js';
import { CellReader } from './cell-reader.js';
import { CellWriter } from './cell-writer.js';
import { Doorbell } from './doorbell.js';
import { Direction, checkSlotHeader, computeLayout, writeSlotHeader, type SlotGeometry, type SlotLayout } from './layout.js';
import { MarkDevices } from './mark-devices.js';
import { SlotMemory } from './slot-memory.js';

export const Side = { PROXY: 'proxy', PROCESS: 'process' } as const;
export type Side = (typeof Side)[keyof typeof Side];

export class Slot {
  /** Process -> proxy: writer's mark is the process mark device (claims 31–35). */
  readonly up: MarkDevices;
  /** Proxy -> process: reader's mark is the process mark device (claim 39). */
  readonly down: MarkDevices;
  readonly writer: CellWriter;
  readonly reader: CellReader;
  /** The bell this side waits on. */
  readonly ownBell: Doorbell;
  private closed = false;

  private constructor(
    readonly side: Side,
    readonly memory: SlotMemory,
    readonly proxyBell: Doorbell,
    readonly processBell: Doorbell,
  ) {
    const layout = memory.layout;
    this.up = new MarkDevices(memory.words, layout, Direction.UP, proxyBell, processBell);
    this.down = new MarkDevices(memory.words, layout, Direction.DOWN, processBell, proxyBell);
    if (side === Side.PROXY) {
      this.writer = new CellWriter(memory, layout, Direction.DOWN, this.down);
      this.reader = new CellReader(memory, layout, Direction.UP, this.up);
      this.ownBell = proxyBell;
    } else {
      this.writer = new CellWriter(memory, layout, Direction.UP, this.up);
      this.reader = new CellReader(memory, layout, Direction.DOWN, this.down);
      this.ownBell = processBell;
    }
  }

  get layout(): SlotLayout {
    return this.memory.layout;
  }

  /**
   * Proxy side: a new memfd sized for the geometry, sealed against resizing, mapped, with
   * its header written; plus two new doorbells. Returns the memfd for handing over; the
   * caller closes it once sent.
   */
  static create(slotId: number, generation: number, geometry: SlotGeometry): { slot: Slot; memfd: number } {
    const layout = computeLayout(slotId, generation, geometry);
    let memfd = -1;
    try {
      memfd = native.memfdCreate(`slotlink-slot-${slotId}.${generation}`, layout.totalBytes);
      const memory = new SlotMemory(native.mmap(memfd, layout.totalBytes), layout);
      writeSlotHeader(memory.view, layout);
      const proxyBell = Doorbell.create();
      const processBell = Doorbell.create();
      return { slot: new Slot(Side.PROXY, memory, proxyBell, processBell), memfd };
    } catch (err) {
      if (memfd >= 0) native.close(memfd);
      throw err instanceof BadSlotError ? err : new SyscallError(`creating slot ${slotId}`, err);
    }
  }

  /**
   * Process side: maps the memfd it received after checking its size and seals, then checks
   * the header against the layout the proxy announced. Closes the memfd (the mapping stays).
   */
  static attach(memfd: number, proxyBellFd: number, processBellFd: number, layout: SlotLayout): Slot {
    try {
      const info = native.memfdInfo(memfd);
      if (info.size !== layout.totalBytes) throw new BadSlotError(`slot memory is ${info.size} bytes, the proxy announced ${layout.totalBytes}`);
      if ((info.seals & Seal.SHRINK) === 0) throw new BadSlotError('slot memory is not sealed against shrinking; refusing to map it');
      const memory = new SlotMemory(native.mmap(memfd, layout.totalBytes), layout);
      checkSlotHeader(memory.view, layout);
      return new Slot(Side.PROCESS, memory, Doorbell.fromFd(proxyBellFd), Doorbell.fromFd(processBellFd));
    } catch (err) {
      for (const fd of [proxyBellFd, processBellFd]) native.close(fd);
      throw err instanceof BadSlotError ? err : new SyscallError('attaching to the slot', err);
    } finally {
      native.close(memfd);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.proxyBell.close();
    this.processBell.close();
  }
}
