/**
 * How late the proxy's event loop runs: everything the proxy does waits behind it, so a
 * lag here is latency for every slot and link. Measured by perf_hooks' sampler and
 * reported over windows of WINDOW_MS (the window before the current one), so any number
 * of readers (status, top, scrapes) see the same figures and none resets them for another.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** How often the sampler looks; its figures include this interval, which is taken off. */
const RESOLUTION_MS = 20;
/** Length of a reporting window. */
export const EVENT_LOOP_WINDOW_MS = 10_000;

/** Seconds; null until the sampler has a sample. */
export interface EventLoopDelayStats {
  p50: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export class EventLoopDelay {
  private readonly sampler: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private last: EventLoopDelayStats | null = null;
  private windowStart = performance.now();

  start(): void {
    this.sampler.enable();
    this.windowStart = performance.now();
  }

  stop(): void {
    this.sampler.disable();
  }

  /** The last full window's figures; before the first has closed, the figures so far. */
  stats(): EventLoopDelayStats {
    const now = performance.now();
    if (now - this.windowStart < EVENT_LOOP_WINDOW_MS) return this.last ?? this.read();
    this.last = this.read();
    this.sampler.reset();
    this.windowStart = now;
    return this.last;
  }

  private read(): EventLoopDelayStats {
    const h = this.sampler;
    if (h.count === 0) return { p50: null, p99: null, max: null, mean: null };
    const lag = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000;
    return { p50: lag(h.percentile(50)), p99: lag(h.percentile(99)), max: lag(h.max), mean: lag(h.mean) };
  }
}
