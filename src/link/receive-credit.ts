/**
 * The receiving side of credit: one record per destination key a peer sends to, what it
 * holds unconsumed (per key and for the peer as a whole), the grants that are due, and the
 * checks that a peer keeps to its credit. A peer that does not is a protocol error: what a
 * proxy holds for one peer stays bounded whatever the peer does.
 */
import { MAX_OUTSTANDING_KEYS, Sweeper } from './credit.js';
import { LinkProtocolError } from '../errors.js';

/** Receiving side, one per destination key. Offsets are in the sender's units for this key. */
export class InCredit {
  /** Units received (the offset the next DATA frame for this key must carry). */
  received: number;
  /** Units that have left this proxy: into a slot, or answered. */
  consumed: number;
  /** The last limit granted. */
  granted: number;
  /** Cleared when the record is forgotten or its session ends: late consumption then changes nothing. */
  live = true;

  constructor(private readonly ledger: ReceiveCredits, readonly key: string, readonly window: number, offset: number) {
    this.received = offset;
    this.consumed = offset;
    this.granted = offset + window;
  }

  /** `cost` units of this destination left the proxy (into a slot, or answered); a grant may be due. */
  consume(cost: number): void {
    this.ledger.consumed(this, cost);
  }

  /** Units received and not yet consumed. */
  get held(): number {
    return this.received - this.consumed;
  }

  /**
   * The limit to grant now, or -1. While units are held, more once half a window was
   * consumed; once none are, everything, so the sender knows all it sent is consumed (it may
   * then send a message larger than the window, or forget the key).
   */
  due(): number {
    const limit = this.consumed + this.window;
    if (limit <= this.granted) return -1;
    return this.held === 0 || limit - this.granted >= this.window / 2 ? limit : -1;
  }

  /** Nothing held and everything granted: the record may be forgotten. */
  get settled(): boolean {
    return this.held === 0 && this.granted === this.consumed + this.window;
  }
}

export class ReceiveCredits {
  /** Units held unconsumed for this peer, all keys together. */
  held = 0;
  /** Records holding units. */
  outstandingKeys = 0;
  private readonly records = new Map<string, InCredit>();
  private readonly due = new Set<InCredit>();
  /** Grants owed outside the usual rule (answers to WANTED). */
  private readonly answers = new Map<string, number>();
  private readonly sweeper = new Sweeper(() => this.records.size, () => this.sweep());

  constructor(
    private readonly window: number,
    /** Units the peer may have unconsumed here at once (our --max-unacked-bytes). */
    private readonly maxHeld: number,
    /** Told when a grant has come due, so the link writes it soon. */
    private readonly grantsDue: () => void,
  ) {}

  get size(): number {
    return this.records.size;
  }

  /**
   * A DATA frame for `key` at `offset` with `messages` messages costing `cost` units: checks
   * that the peer kept to its credit and counts the units as received. Throws
   * LinkProtocolError naming what was exceeded.
   */
  receive(key: string, offset: number, messages: number, cost: number): InCredit {
    let c = this.records.get(key);
    if (c && offset !== c.received) {
      // A sender forgets a key only once all it sent was consumed, and then starts again at 0.
      if (c.held !== 0 || offset > c.received) throw new LinkProtocolError(`DATA frame for "${key}": offset ${offset}, expected ${c.received} (${c.held} units held)`);
      this.forget(c);
      c = undefined;
    }
    if (!c) {
      c = new InCredit(this, key, this.window, offset);
      this.records.set(key, c);
      this.sweeper.note();
    }
    const alone = messages === 1;
    if (c.held + cost > this.window && !(alone && c.held === 0))
      throw new LinkProtocolError(`DATA frame for "${key}": ${cost} units with ${c.held} already held exceed the credit window of ${this.window}`);
    if (this.held + cost > this.maxHeld && !(alone && this.held === 0))
      throw new LinkProtocolError(`DATA frame for "${key}": ${cost} units with ${this.held} already held for this peer exceed its limit of ${this.maxHeld}`);
    if (c.held === 0) {
      if (this.outstandingKeys >= MAX_OUTSTANDING_KEYS) throw new LinkProtocolError(`DATA frame for "${key}": more than ${MAX_OUTSTANDING_KEYS} destinations with unconsumed messages`);
      this.outstandingKeys++;
    }
    c.received += cost;
    this.held += cost;
    return c;
  }

  /** `cost` units of `c` left this proxy; a grant may be due. */
  consumed(c: InCredit, cost: number): void {
    if (!c.live) return;
    c.consumed += cost;
    this.held -= cost;
    if (c.held === 0) this.outstandingKeys--;
    if (c.due() < 0) return;
    this.due.add(c);
    this.grantsDue();
  }

  /** The sender asks for its grant for `key` (after a reconnect); `sent` is its offset. */
  wanted(key: string, sent: number): void {
    const c = this.records.get(key);
    if (!c) {
      this.answers.set(key, sent + this.window); // forgotten: all of it was consumed
      return this.grantsDue();
    }
    if (sent !== c.received) throw new LinkProtocolError(`WANTED frame for "${key}": offset ${sent}, expected ${c.received}`);
    c.granted = Math.max(c.granted, c.consumed + this.window);
    this.answers.set(key, c.granted);
    this.grantsDue();
  }

  /** Grants to send now, as [key, limit]; each is counted as granted. */
  *takeGrants(): Generator<[string, number]> {
    for (const c of this.due) {
      const limit = c.due();
      if (limit < 0 || !c.live) continue;
      c.granted = limit;
      this.answers.delete(c.key);
      yield [c.key, limit];
    }
    this.due.clear();
    for (const a of this.answers) yield a;
    this.answers.clear();
    this.sweeper.note();
  }

  /** A new session: every record refers to the old one. */
  reset(): void {
    for (const c of this.records.values()) c.live = false;
    this.records.clear();
    this.due.clear();
    this.answers.clear();
    this.held = 0;
    this.outstandingKeys = 0;
  }

  private forget(c: InCredit): void {
    c.live = false;
    this.records.delete(c.key);
  }

  /** Forgets records with nothing held and everything granted; a later frame starts them anew at its offset. */
  private sweep(): void {
    for (const c of this.records.values()) if (c.settled && !this.due.has(c)) this.forget(c);
    this.sweeper.note(); // records still in use may settle later
  }
}
