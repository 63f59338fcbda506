/**
 * Numbers for a terminal: bytes in binary units and rates with one decimal, so that small
 * traffic shows as what it is rather than as 0; durations in the unit that fits.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 0 B, 0.4 B, 512 B, 1.5 KiB, 3.2 MiB ... (one decimal unless a whole number of bytes). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 && Number.isInteger(v) ? 0 : 1;
  return `${v.toFixed(digits)} ${BYTE_UNITS[u]}`;
}

/** A count per second: 0.3, 12.5, 950, 12.3k, 2.05M. */
export function formatRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k`;
  if (r >= 100 || r === 0) return r.toFixed(0);
  return r.toFixed(1);
}

/** 85 µs, 1.2 ms, 2.50 s. */
export function formatSeconds(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}
