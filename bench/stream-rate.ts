/** Aggregate throughput of several senders streaming at once, as the benchmarks measure it. */
import type { IpcChild } from '../src/util/ipc-child.js';

/**
 * Each of `receivers` expects `n` messages; `start(i)` makes sender i send its n (resolving
 * with the time it started). Returns all messages over the time from the first start to the
 * last arrival, in msg/s. Times are CLOCK_MONOTONIC µs from bench/peer.ts, so they compare
 * across processes.
 */
export async function streamRate(receivers: IpcChild[], n: number, start: (i: number) => Promise<{ start: number }>): Promise<number> {
  await Promise.all(receivers.map((r) => r.call('expect', { n })));
  const arrivals = receivers.map((r) => r.call('arrived'));
  const starts = await Promise.all(receivers.map((_, i) => start(i)));
  const ends = await Promise.all(arrivals);
  return ((receivers.length * n) / (Math.max(...ends.map((e) => e.at)) - Math.min(...starts.map((s) => s.start)))) * 1e6;
}
