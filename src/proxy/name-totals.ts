/**
 * Slot counters per registered name: what every process that held the name did, the ones
 * gone included. Metrics are labelled by name (not instance) so recycled workers (PHP-FPM,
 * gunicorn) keep adding to one series instead of adding series; a group's members add up.
 * A process's counters are folded into its name when it goes, so the totals never go back.
 *
 * A name nobody holds any more keeps its totals for RETAIN_MS (a worker restarted under the
 * same name within it carries on counting), and at most MAX_DEPARTED_NAMES such names are
 * kept (the longest gone are dropped first); then its series disappear.
 */
import type { MailboxStats } from '../slot/mailbox.js';

/** The counters of one slot that add up per name. */
export const SLOT_COUNTERS = ['messagesIn', 'messagesOut', 'bytesIn', 'bytesOut', 'cellsIn', 'cellsOut', 'doorbellsRung', 'doorbellsSaved', 'backPressureWaits'] as const;
type SlotCounter = (typeof SLOT_COUNTERS)[number];
export type SlotCounters = Pick<MailboxStats, Exclude<SlotCounter, 'backPressureWaits'>> & { backPressureWaits: number };

export interface NameStats extends SlotCounters {
  name: string;
  /** Processes registered under the name now (0: it is kept a while after the last went). */
  processes: number;
  /** Bytes waiting for room in its processes' slots now. */
  queuedBytes: number;
}

export const RETAIN_MS = 5 * 60_000;
export const MAX_DEPARTED_NAMES = 1024;

function zero(): SlotCounters {
  return { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, cellsIn: 0, cellsOut: 0, doorbellsRung: 0, doorbellsSaved: 0, backPressureWaits: 0 };
}

export class NameTotals {
  /** Counters of processes gone, per name, in the order names were last left (oldest first); `leftAt`: Date.now(). */
  private readonly departed = new Map<string, { counters: SlotCounters; leftAt: number }>();

  constructor(
    /** Whether a process holds `name` now. */
    private readonly registered: (name: string) => boolean,
    private readonly retainMs = RETAIN_MS,
    private readonly maxDeparted = MAX_DEPARTED_NAMES,
  ) {}

  /** A process under `name` went; `final`: its counters at the end. */
  retire(name: string, final: SlotCounters, now = Date.now()): void {
    const had = this.departed.get(name);
    const counters = had?.counters ?? zero();
    for (const k of SLOT_COUNTERS) counters[k] += final[k];
    this.departed.delete(name);
    this.departed.set(name, { counters, leftAt: now });
    this.prune(now);
  }

  /** Totals per name: `live` are the slots registered now. */
  stats(live: ReadonlyArray<SlotCounters & { name: string; queuedBytes: number }>, now = Date.now()): NameStats[] {
    this.prune(now);
    const out = new Map<string, NameStats>();
    for (const s of live) {
      let n = out.get(s.name);
      if (!n) out.set(s.name, (n = { name: s.name, processes: 0, queuedBytes: 0, ...zero() }));
      n.processes++;
      n.queuedBytes += s.queuedBytes;
      for (const k of SLOT_COUNTERS) n[k] += s[k];
    }
    for (const [name, d] of this.departed) {
      const n = out.get(name);
      if (n) for (const k of SLOT_COUNTERS) n[k] += d.counters[k];
      else out.set(name, { name, processes: 0, queuedBytes: 0, ...d.counters });
    }
    return [...out.values()];
  }

  /** Drops names nobody holds that left too long ago, or past the most kept (the oldest first). */
  private prune(now: number): void {
    let gone = 0;
    for (const name of this.departed.keys()) if (!this.registered(name)) gone++;
    for (const [name, d] of this.departed) {
      if (this.registered(name)) continue;
      if (now - d.leftAt <= this.retainMs && gone <= this.maxDeparted) break;
      this.departed.delete(name);
      gone--;
    }
  }
}
