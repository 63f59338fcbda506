/**
 * A histogram with fixed bucket bounds, in Prometheus's sense: counts per bucket, their
 * sum and count, cumulative only when rendered. Observing is a short scan from the first
 * bucket (round trips mostly land in the first few) and allocates nothing.
 */

/** Bucket bounds for request round trips, seconds: 50 µs (a local hop) to 10 s. */
export const ROUND_TRIP_BOUNDS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A histogram's snapshot: `counts[i]` observations in bucket i (not cumulative); the last is above every bound. */
export interface HistogramStats {
  count: number;
  sum: number;
  counts: number[];
}

export class Histogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private total = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.total++;
  }

  stats(): HistogramStats {
    return { count: this.total, sum: this.sum, counts: Array.from(this.counts) };
  }
}

/**
 * The value below which a fraction `q` of the observations fall, interpolated within its
 * bucket as Prometheus's histogram_quantile does; null with no observations. Observations
 * above the last bound report that bound (the histogram knows no more).
 */
export function quantile(bounds: readonly number[], counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (below + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - below) / c);
    }
    below += c;
  }
  return bounds[bounds.length - 1]!;
}
