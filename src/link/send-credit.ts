/**
 * The sending side of credit: one ledger per destination key on the peer, and the limits
 * over all of them (units not yet known to be consumed; destinations with such units).
 * A ledger also remembers which of its SENDs are not yet known to be consumed, so that if
 * the peer restarts their senders hear it instead of losing them silently.
 */
import { MAX_OUTSTANDING_KEYS, Sweeper, creditCost } from './credit.js';
import { LinkProtocolError } from '../errors.js';
import { RecordKind } from '../slot/record.js';

/** SENDs from one source, up to a credit offset: what a peer restart would fail back. */
interface Unconfirmed {
  end: number;
  from: Uint8Array;
  sends: number;
}

/** Sending side, one per destination key. */
export class OutCredit {
  /** Units sent to this destination since this ledger began (the next DATA frame's offset). */
  sent = 0;
  /** The receiver's last grant: units it allows up to. */
  limit: number;
  /** Messages to this destination waiting in the link's streams (stream-scheduler.ts). */
  queuedMessages = 0;
  /** Set once the ledger is dropped: whoever still holds it must ask the link for the current one. */
  forgotten = false;
  private readonly unconfirmed: Unconfirmed[] = [];
  private head = 0;

  constructor(readonly key: Uint8Array, public window: number) {
    this.limit = window;
  }

  /** Units the receiver has said are consumed. */
  get confirmed(): number {
    return this.limit - this.window;
  }

  /** Whether some units sent are not yet known to be consumed. */
  get outstanding(): boolean {
    return this.sent > this.confirmed;
  }

  /** A message of `cost` units fits: within the limit, or alone (everything sent is consumed). */
  allows(cost: number): boolean {
    return this.sent + cost <= this.limit || !this.outstanding;
  }

  /** Counts a message as sent; a SEND is remembered until a grant covers it. */
  record(cost: number, from: Uint8Array, kind: RecordKind): void {
    this.sent += cost;
    if (kind !== RecordKind.SEND) return;
    const last = this.unconfirmed.length > this.head ? this.unconfirmed[this.unconfirmed.length - 1]! : null;
    if (last && last.from === from) {
      last.end = this.sent;
      last.sends++;
    } else {
      this.unconfirmed.push({ end: this.sent, from, sends: 1 });
    }
  }

  /** A grant arrived; returns the units it newly confirms as consumed (0 if none). */
  grant(limit: number): number {
    if (limit <= this.limit) return 0;
    if (limit - this.window > this.sent)
      throw new LinkProtocolError(`CREDIT frame: limit ${limit} for "${Buffer.from(this.key).toString('latin1')}" confirms ${limit - this.window} units consumed, but only ${this.sent} were sent`);
    const before = this.confirmed;
    this.limit = limit;
    const confirmed = this.confirmed;
    while (this.head < this.unconfirmed.length && this.unconfirmed[this.head]!.end <= confirmed) this.head++;
    if (this.head === this.unconfirmed.length) {
      this.unconfirmed.length = 0;
      this.head = 0;
    }
    return Math.min(confirmed, this.sent) - Math.min(before, this.sent);
  }

  /** SENDs not known to be consumed, by source: what a restarted peer may have lost. */
  unconfirmedSends(): Array<{ from: Uint8Array; sends: number }> {
    return this.unconfirmed.slice(this.head).map((u) => ({ from: u.from, sends: u.sends }));
  }

  /** Nothing in flight, nothing waiting: the ledger may be forgotten. */
  get settled(): boolean {
    return !this.outstanding && this.queuedMessages === 0;
  }
}

/** Every ledger towards one peer, and the limits over all of them. */
export class SendCredits {
  /** Units sent and not yet known to be consumed, all destinations together. */
  unconfirmed = 0;
  /** Ledgers with units not yet known to be consumed. */
  outstandingKeys = 0;
  /** The peer's limit on `unconfirmed` (from its HELLO, at most ours). */
  maxUnconfirmed: number;
  /** The peer's credit window per destination (from its HELLO). */
  private window = 0;
  /** False until a session starts: nothing is sent before the peer has said what it allows. */
  private started = false;
  private readonly ledgers = new Map<string, OutCredit>();
  /** Ledgers holding messages because a limit over all destinations was reached. */
  private readonly waitingForPeer = new Set<OutCredit>();
  private readonly sweeper = new Sweeper(() => this.ledgers.size, () => this.sweep());

  constructor(maxUnconfirmed: number) {
    this.maxUnconfirmed = maxUnconfirmed;
  }

  /**
   * A session begins with the peer's limits: its window per destination and its limit over
   * all of them (at most `ours`). Ledgers made before (with messages waiting) adopt them.
   */
  start(window: number, maxUnconfirmed: number, ours: number): void {
    this.window = window;
    this.maxUnconfirmed = Math.min(maxUnconfirmed, ours);
    this.started = true;
    for (const c of this.ledgers.values()) {
      if (c.sent !== 0) continue; // a reconnect within the session: its ledgers go on as they were
      c.window = window;
      c.limit = window;
    }
  }

  get size(): number {
    return this.ledgers.size;
  }

  /** The ledger for `key` (the destination address without "@node"), made if new. */
  ledger(key: string): OutCredit {
    let c = this.ledgers.get(key);
    if (!c) {
      c = new OutCredit(Buffer.from(key, 'latin1'), this.window);
      this.ledgers.set(key, c);
      this.sweeper.note();
    }
    return c;
  }

  /** The current ledger of a destination, for a caller holding one that may have been forgotten. */
  current(c: OutCredit): OutCredit {
    return c.forgotten ? this.ledger(Buffer.from(c.key).toString('latin1')) : c;
  }

  /** Whether a message of `payloadBytes` may be written on `c` now; if not, `c` is noted to be drained later. */
  allows(c: OutCredit, payloadBytes: number): boolean {
    if (!this.started) return void this.waitingForPeer.add(c), false;
    const cost = creditCost(payloadBytes);
    if (!c.allows(cost)) return false;
    const peerFull = (this.unconfirmed > 0 && this.unconfirmed + cost > this.maxUnconfirmed) || (!c.outstanding && this.outstandingKeys >= MAX_OUTSTANDING_KEYS);
    if (peerFull) this.waitingForPeer.add(c);
    return !peerFull;
  }

  /** Counts a message written on `c`. */
  wrote(c: OutCredit, payloadBytes: number, from: Uint8Array, kind: RecordKind): number {
    const cost = creditCost(payloadBytes);
    if (!c.outstanding) this.outstandingKeys++;
    c.record(cost, from, kind);
    this.unconfirmed += cost;
    return cost;
  }

  /** A grant for `key`; returns its ledger (null when the key is not tracked any more). */
  grant(key: string, limit: number): OutCredit | null {
    const c = this.ledgers.get(key);
    if (!c) return null;
    const was = c.outstanding;
    this.unconfirmed -= c.grant(limit);
    if (was && !c.outstanding) {
      this.outstandingKeys--;
      this.sweeper.note();
    }
    return c;
  }

  /** Ledgers that waited for the limits over all destinations (taken: they try again). */
  takeWaitingForPeer(): OutCredit[] {
    const all = [...this.waitingForPeer];
    this.waitingForPeer.clear();
    return all;
  }

  all(): IterableIterator<OutCredit> {
    return this.ledgers.values();
  }

  /** Drops every ledger (a new session); returns them for failing back what they held. */
  reset(): OutCredit[] {
    const all = [...this.ledgers.values()];
    for (const c of all) c.forgotten = true;
    this.ledgers.clear();
    this.waitingForPeer.clear();
    this.unconfirmed = 0;
    this.outstandingKeys = 0;
    this.started = false;
    return all;
  }

  /** Forgets ledgers with nothing in flight; the next message to such a key starts a new one at offset 0. */
  private sweep(): void {
    for (const [key, c] of this.ledgers) {
      if (!c.settled) continue;
      c.forgotten = true;
      this.ledgers.delete(key);
    }
    this.sweeper.note(); // ledgers still in flight may settle later
  }
}
