/**
 * What an endpoint's application sends while there is no slot to write it into (the proxy
 * went away, or is draining before it goes): held in the order sent, each for at most its
 * deadline, and written into the next registration's slot before anything sent after it.
 * Deadlines never decrease along the queue (see Endpoint), so expiry looks at the head only.
 */
import type { Pending } from '../slot/send-queue.js';

interface Held {
  p: Pending;
  deadline: number;
}

export class HeldSends {
  /** Payload bytes held. */
  bytes = 0;
  private items: Held[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `expired` runs for each message whose deadline passed; it is no longer held. */
  constructor(private readonly expired: (p: Pending) => void) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Holds `p` until it is taken or `deadline` (ms since the epoch) passes. */
  push(p: Pending, deadline: number): void {
    this.items.push({ p, deadline });
    this.bytes += p.end - p.start;
    this.schedule();
  }

  /**
   * Puts `carried` (taken back from a slot whose registration ended; sent before anything
   * held now) in front, in order, all due at `deadline`.
   */
  carry(carried: Pending[], deadline: number): void {
    if (carried.length === 0) return;
    const front = carried.map((p) => ({ p, deadline }));
    this.items = [...front, ...this.items.slice(this.head)];
    this.head = 0;
    for (const p of carried) this.bytes += p.end - p.start;
    this.schedule(true);
  }

  /** Everything held, in order; nothing is held afterwards. */
  takeAll(): Pending[] {
    const all = this.items.slice(this.head).map((h) => h.p);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return all;
  }

  /** The ids of the requests held (their REQUEST has not left yet). */
  requestIds(): Set<number> {
    const ids = new Set<number>();
    for (let i = this.head; i < this.items.length; i++) {
      const id = this.items[i]!.p.requestId;
      if (id !== 0) ids.add(id);
    }
    return ids;
  }

  private schedule(again = false): void {
    if (again && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.timer || this.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.expire();
    }, Math.max(0, this.items[this.head]!.deadline - Date.now()));
  }

  private expire(): void {
    const now = Date.now();
    while (this.head < this.items.length && this.items[this.head]!.deadline <= now) {
      const { p } = this.items[this.head]!;
      this.items[this.head++] = undefined as unknown as Held;
      this.bytes -= p.end - p.start;
      this.expired(p);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    this.schedule();
  }
}
