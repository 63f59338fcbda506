/** Views over one slot's mapping. Built once per slot; every access goes through them. */
import type { SlotLayout } from './layout.js';

export class SlotMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly words: Int32Array;

  constructor(readonly buffer: ArrayBuffer, readonly layout: SlotLayout) {
    this.bytes = new Uint8Array(buffer, 0, layout.totalBytes);
    this.view = new DataView(buffer, 0, layout.totalBytes);
    this.words = new Int32Array(buffer, 0, layout.totalBytes >> 2);
  }
}
