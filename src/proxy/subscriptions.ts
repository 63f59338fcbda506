/**
 * Subscriptions at the proxy (docs/slot-layout.md §8): which of its processes subscribed to
 * what, found by subject, and the distinct patterns it announces to its peers. A
 * drop-oldest subscription keeps its publications that wait for room in its slot, so that
 * past its bound the oldest can be dropped instead of holding a publisher back.
 */
import { RegistrationError, TooManySubscriptionsError } from '../errors.js';
import {
  DEFAULT_SUBSCRIPTION_QUEUED_BYTES,
  MAX_SUBSCRIPTIONS,
  MAX_SUBSCRIPTION_ID,
  SubscriptionPolicy,
  type Subscribe,
} from '../contract/registration.js';
import type { Pending } from '../slot/send-queue.js';
import type { Mailbox } from '../slot/mailbox.js';
import { checkPattern } from '../slot/subject.js';
import { SubjectIndex } from './subject-index.js';

/** Who a subscription belongs to, as far as this table cares. */
export interface Subscriber {
  readonly mailbox: Mailbox;
  readonly closed: boolean;
}

export class Subscription<P extends Subscriber = Subscriber> {
  /** Publications written into its slot, and dropped (drop-oldest only). */
  delivered = 0;
  dropped = 0;
  /** Drops not yet reported to the process. */
  unreported = 0;
  /** Payload bytes of its publications waiting for room (drop-oldest only). */
  queuedBytes = 0;
  /** Its publications waiting for room, oldest first (drop-oldest only). */
  private readonly waiting: Pending[] = [];
  private head = 0;

  constructor(
    readonly owner: P,
    readonly id: number,
    readonly pattern: string,
    readonly policy: SubscriptionPolicy,
    readonly maxQueuedBytes: number,
  ) {}

  get dropsOldest(): boolean {
    return this.policy === SubscriptionPolicy.DROP_OLDEST;
  }

  /** A publication of `bytes` now waits for room; past the bound, the oldest not yet begun are dropped. Returns how many. */
  queued(p: Pending, bytes: number): number {
    this.waiting.push(p);
    this.queuedBytes += bytes;
    let drops = 0;
    while (this.queuedBytes > this.maxQueuedBytes && this.head < this.waiting.length - 1) {
      const oldest = this.waiting[this.head]!;
      if (!this.owner.mailbox.cancel(oldest)) break; // begun: it finishes, and leaves the list then
      this.waiting[this.head++] = undefined as unknown as Pending;
      this.queuedBytes -= oldest.end - oldest.start;
      drops++;
    }
    this.dropped += drops;
    this.unreported += drops;
    return drops;
  }

  /** A waiting publication was written (or abandoned): it no longer counts. */
  left(p: Pending): void {
    if (p.cancelled) return; // counted when it was dropped
    const i = this.waiting.indexOf(p, this.head);
    if (i < 0) return;
    this.queuedBytes -= p.end - p.start;
    if (i === this.head) {
      this.waiting[this.head++] = undefined as unknown as Pending;
      while (this.head < this.waiting.length && this.waiting[this.head] === undefined) this.head++;
    } else this.waiting.splice(i, 1);
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    }
  }
}

export class SubscriptionTable<P extends Subscriber = Subscriber> {
  private readonly index = new SubjectIndex<Subscription<P>>();
  private readonly byOwner = new Map<P, Map<number, Subscription<P>>>();
  /** Each distinct pattern and how many subscriptions hold it: what the proxy announces. */
  private readonly patterns = new Map<string, number>();

  /**
   * Adds the subscription a `subscribe` frame asks for. Throws InvalidSubjectError or
   * TooManySubscriptionsError for a subscription refused (the process hears why, and goes on),
   * RegistrationError for a frame no correct client writes (an id that is not a u32 other
   * than 0, or one in use; an unknown policy or bound).
   */
  add(owner: P, frame: Subscribe, maxQueuedBytesCap: number): Subscription<P> {
    const { id } = frame;
    if (!Number.isInteger(id) || id < 1 || id > MAX_SUBSCRIPTION_ID) throw new RegistrationError(`subscribe: id ${JSON.stringify(id)} is not an integer 1..${MAX_SUBSCRIPTION_ID}`);
    let mine = this.byOwner.get(owner);
    if (mine?.has(id)) throw new RegistrationError(`subscribe: id ${id} is already one of this process's subscriptions`);
    const policy = frame.policy ?? SubscriptionPolicy.BLOCK;
    if (!(Object.values(SubscriptionPolicy) as unknown[]).includes(policy)) throw new RegistrationError(`subscribe: policy ${JSON.stringify(policy)} is not "block" or "drop-oldest"`);
    const asked = frame.maxQueuedBytes ?? DEFAULT_SUBSCRIPTION_QUEUED_BYTES;
    if (!Number.isSafeInteger(asked) || asked < 1) throw new RegistrationError(`subscribe: maxQueuedBytes ${JSON.stringify(frame.maxQueuedBytes)} is not a positive whole number`);
    // No more than the proxy lets wait for any one receiver.
    const maxQueuedBytes = Math.min(asked, maxQueuedBytesCap);
    const pattern = checkPattern(frame.subject);
    if ((mine?.size ?? 0) >= MAX_SUBSCRIPTIONS) throw new TooManySubscriptionsError(MAX_SUBSCRIPTIONS);
    if (!mine) this.byOwner.set(owner, (mine = new Map()));
    const sub = new Subscription(owner, id, pattern, policy, maxQueuedBytes);
    mine.set(id, sub);
    this.index.add(pattern, sub);
    this.patterns.set(pattern, (this.patterns.get(pattern) ?? 0) + 1);
    return sub;
  }

  /** Ends subscription `id` of `owner`; false if it holds none by that id. */
  remove(owner: P, id: number): boolean {
    const sub = this.byOwner.get(owner)?.get(id);
    if (!sub) return false;
    this.drop(sub);
    return true;
  }

  /** Every subscription of `owner` ends (it went away); false if it had none. */
  removeAll(owner: P): boolean {
    const mine = this.byOwner.get(owner);
    if (!mine) return false;
    for (const sub of [...mine.values()]) this.drop(sub);
    return true;
  }

  /** The subscriptions a publication to `subject` (checked) reaches. */
  match(subject: string): readonly Subscription<P>[] {
    return this.index.match(subject);
  }

  /** Every subscription, each process's together. */
  *all(): IterableIterator<Subscription<P>> {
    for (const mine of this.byOwner.values()) yield* mine.values();
  }

  /** The distinct patterns subscribed here, for peers. */
  announced(): string[] {
    return [...this.patterns.keys()];
  }

  private drop(sub: Subscription<P>): void {
    const mine = this.byOwner.get(sub.owner)!;
    mine.delete(sub.id);
    if (mine.size === 0) this.byOwner.delete(sub.owner);
    this.index.remove(sub.pattern, sub);
    const n = this.patterns.get(sub.pattern)! - 1;
    if (n === 0) this.patterns.delete(sub.pattern);
    else this.patterns.set(sub.pattern, n);
  }
}
