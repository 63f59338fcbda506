/**
 * A copy of `bytes[start, end)` that owns its memory. (Buffer#slice, unlike
 * Uint8Array#slice, returns a view; this never does.)
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}
