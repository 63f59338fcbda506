/**
 * Request round trips as this proxy sees them, per destination name: from a request passing
 * the proxy to its answer (a reply, or an error) passing back. A request between two hosts
 * passes both proxies, and each times it: the requester's proxy the whole round trip
 * (link included), the responder's proxy the responder's part.
 *
 * Labelled by name, not instance, so recycled workers reuse their series. Bounded: the first
 * MAX_NAMES names get a histogram each, later ones share OTHER; a name not answered for
 * RETAIN_MS loses its histogram (and frees its place) at the next snapshot.
 */
import { Histogram, ROUND_TRIP_BOUNDS_SECONDS, type HistogramStats } from './histogram.js';

/** Destination names with their own histogram. */
export const MAX_ROUND_TRIP_NAMES = 64;
/** Where the names past the limit are counted: no process can register it ("~" cannot start a name). */
export const OTHER_NAMES = '~other';
/** A name not answered for this long loses its histogram. */
const RETAIN_MS = 5 * 60_000;

export interface RoundTripStats {
  boundsSeconds: readonly number[];
  byName: Array<{ name: string } & HistogramStats>;
}

export class RequestRoundTrips {
  private readonly byName = new Map<string, { histogram: Histogram; lastAt: number }>();
  /** Destination names of addresses as written ("billing@beta" → "billing"), by the route's bytes. */
  private readonly names = new WeakMap<Uint8Array, string>();

  /** A request to `name`, which passed at `sentAt` (performance.now()), was answered now. */
  answered(name: string, sentAt: number): void {
    const now = performance.now();
    let h = this.byName.get(name);
    if (!h) {
      const key = this.byName.size < MAX_ROUND_TRIP_NAMES + (this.byName.has(OTHER_NAMES) ? 1 : 0) ? name : OTHER_NAMES;
      h = this.byName.get(key);
      if (!h) this.byName.set(key, (h = { histogram: new Histogram(ROUND_TRIP_BOUNDS_SECONDS), lastAt: now }));
    }
    h.lastAt = now;
    h.histogram.observe((now - sentAt) / 1000);
  }

  /** As answered(), for a destination written as an address (`name`, `name@node`, `name~id.gen@node`). */
  answeredTo(to: Uint8Array, sentAt: number): void {
    let name = this.names.get(to);
    if (name === undefined) {
      const text = Buffer.from(to.buffer, to.byteOffset, to.length).toString('latin1');
      name = text.split('@')[0]!.split('~')[0]!;
      this.names.set(to, name);
    }
    this.answered(name, sentAt);
  }

  stats(): RoundTripStats {
    const now = performance.now();
    for (const [name, h] of this.byName) if (now - h.lastAt > RETAIN_MS) this.byName.delete(name);
    return { boundsSeconds: ROUND_TRIP_BOUNDS_SECONDS, byName: [...this.byName].map(([name, h]) => ({ name, ...h.histogram.stats() })) };
  }
}
