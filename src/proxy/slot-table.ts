/**
 * Slot numbers and generations. Numbers are reused lowest-first; the generation counts up
 * on every registration, so anything addressed to an old owner of a number is not
 * delivered to the new one.
 */
import { ProxyFullError } from '../errors.js';

export class SlotTable {
  private readonly used = new Set<number>();
  private generation = 0;

  constructor(readonly maxSlots: number) {}

  get size(): number {
    return this.used.size;
  }

  allocate(): { id: number; generation: number } {
    if (this.used.size >= this.maxSlots) throw new ProxyFullError(this.maxSlots);
    let id = 0;
    while (this.used.has(id)) id++;
    this.used.add(id);
    this.generation = (this.generation + 1) >>> 0 || 1;
    return { id, generation: this.generation };
  }

  release(id: number): void {
    this.used.delete(id);
  }
}
