/**
 * A copy of `bytes[start, end)` that owns its memory. (Buffer#slice, unlike
 * Uint8Array#slice, returns a view; this never does.)
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}

/**
 * Ranges up to this long are copied byte by byte. Measured on Node 20: a byte loop costs
 * about 12 ns for 16 bytes and 92 ns for 64; set() on a subarray about 45 ns at any size.
 */
const SMALL_COPY = 32;

/** Copies `src[start, end)` to `dst` at `at`; returns the offset after it. */
export function copyInto(dst: Uint8Array, at: number, src: Uint8Array, start: number, end: number): number {
  if (end - start > SMALL_COPY) {
    // A plain Uint8Array view: Buffer#subarray would build a Buffer through its species.
    dst.set(start === 0 && end === src.length ? src : new Uint8Array(src.buffer, src.byteOffset + start, end - start), at);
    return at + end - start;
  }
  for (let i = start; i < end; i++) dst[at++] = src[i]!;
  return at;
}

/** Whether `a` holds the same bytes as `buf[start, start + length)`. */
export function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
