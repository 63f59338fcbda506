/**
 * A small cache keyed by address bytes, so the hot path can find what an address means
 * (a route, a sender's string) without building a string per message. Entries are checked
 * byte for byte; the cache empties itself when it grows past its bound.
 */
import { copyBytes, sameBytes } from '../util/bytes.js';

export class AddressCache<V> {
  private readonly map = new Map<number, Array<{ bytes: Uint8Array; value: V }>>();
  private size = 0;
  private last: { bytes: Uint8Array; value: V } | null = null;

  constructor(private readonly maxEntries = 4096) {}

  get(buf: Uint8Array, start: number, length: number): V | undefined {
    // A stream repeats its addresses: try the last hit before hashing.
    const last = this.last;
    if (last && sameBytes(last.bytes, buf, start, length)) return last.value;
    const bucket = this.map.get(hash(buf, start, length));
    if (!bucket) return undefined;
    for (const e of bucket) {
      if (sameBytes(e.bytes, buf, start, length)) {
        this.last = e;
        return e.value;
      }
    }
    return undefined;
  }

  set(buf: Uint8Array, start: number, length: number, value: V): void {
    if (this.size >= this.maxEntries) this.clear();
    const h = hash(buf, start, length);
    const bytes = copyBytes(buf, start, start + length);
    const bucket = this.map.get(h);
    if (!bucket) this.map.set(h, [{ bytes, value }]);
    else {
      const e = bucket.find((x) => sameBytes(x.bytes, buf, start, length));
      if (e) {
        e.value = value;
        return;
      }
      bucket.push({ bytes, value });
    }
    this.size++;
  }

  clear(): void {
    this.map.clear();
    this.size = 0;
    this.last = null;
  }
}

/** FNV-1a over the bytes. */
function hash(buf: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return (h ^ length) >>> 0;
}

