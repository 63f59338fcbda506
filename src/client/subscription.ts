/**
 * A subscription as an application holds it: the publications that matched its subject, in
 * arrival order, as an async iterator. With `block` (the default) what it holds counts
 * against the endpoint's inbox bound, so a subscriber that stops taking them stops reading
 * its slot and its publishers are held back; with `drop-oldest` it holds at most its bound
 * and drops the oldest, counting them (the proxy does the same with what waits for its slot).
 */
import { ClosedError, type SlotlinkError } from '../errors.js';
import { SubscriptionPolicy } from '../contract/registration.js';
import type { Message } from './message.js';

export interface SubscribeOptions {
  /** When the application falls behind: hold publishers back (`block`, default) or drop the oldest (`drop-oldest`). */
  policy?: SubscriptionPolicy;
  /** `drop-oldest`: payload bytes held, here and at the proxy each, before the oldest is dropped. Default 256 KiB (the proxy holds at most its --max-queued-bytes). */
  maxQueuedBytes?: number;
}

/** Where a subscription counts what it holds, and tells of what it dropped. */
export interface SubscriptionOwner {
  hold(bytes: number): void;
  release(bytes: number): void;
  unsubscribe(sub: Subscription): void;
  dropped(sub: Subscription, messages: number): void;
}

export class Subscription implements AsyncIterable<Message> {
  /** Publications received, and dropped (here or at the proxy) because the application fell behind. */
  received = 0;
  dropped = 0;
  /** Resolves once the proxy has it in effect; rejects with why the proxy refused it. */
  readonly ready: Promise<void>;
  /** Resolves when it has ended: null after unsubscribe(), else why. */
  readonly closed: Promise<SlotlinkError | null>;
  /** Payload bytes held for the application. */
  heldBytes = 0;
  private readonly held: Message[] = [];
  private head = 0;
  private readonly pullers: Array<{ resolve: (r: IteratorResult<Message>) => void; reject: (e: Error) => void }> = [];
  private ended: { error: SlotlinkError | null; refused: boolean } | null = null;
  private settleReady!: (err: SlotlinkError | null) => void;
  private resolveClosed!: (r: SlotlinkError | null) => void;

  /** @internal use Endpoint.subscribe() */
  constructor(
    private readonly owner: SubscriptionOwner,
    /** The endpoint's number for it (unique while the endpoint lives). */
    readonly id: number,
    /** The pattern subscribed to. */
    readonly subject: string,
    readonly policy: SubscriptionPolicy,
    readonly maxQueuedBytes: number,
  ) {
    this.ready = new Promise((resolve, reject) => (this.settleReady = (err) => (err ? reject(err) : resolve())));
    this.ready.catch(() => {}); // an application that never awaits it still sees the refusal in its iterator
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  get isOpen(): boolean {
    return this.ended === null;
  }

  /** Ends the subscription: nothing more comes out of it, not even what it held; its iterator ends. */
  unsubscribe(): void {
    if (this.ended) return;
    this.owner.unsubscribe(this);
    this.end(null);
    this.held.length = 0;
    this.head = 0;
    this.heldBytes = 0;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => this.next(),
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** The next publication, waiting for one; done once ended and all are taken (or rejects with why it was refused). */
  next(): Promise<IteratorResult<Message>> {
    if (this.head < this.held.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.ended) return this.ended.refused ? Promise.reject(this.ended.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.pullers.push({ resolve, reject }));
  }

  /** @internal a publication for it arrived. */
  put(msg: Message): void {
    if (this.ended) return;
    this.received++;
    const puller = this.pullers.shift();
    if (puller) return puller.resolve({ value: msg, done: false });
    this.held.push(msg);
    this.heldBytes += msg.data.length;
    if (this.policy === SubscriptionPolicy.BLOCK) return this.owner.hold(msg.data.length);
    let drops = 0;
    while (this.heldBytes > this.maxQueuedBytes && this.held.length - this.head > 1) {
      this.take();
      drops++;
    }
    if (drops > 0) this.droppedHere(drops);
  }

  /** @internal the proxy confirmed it. */
  confirmed(): void {
    this.settleReady(null);
  }

  /** @internal the proxy dropped `messages` of its publications. */
  droppedHere(messages: number): void {
    this.dropped += messages;
    this.owner.dropped(this, messages);
  }

  /**
   * @internal it ended: unsubscribed (null), its endpoint closed (why, or null), or refused by
   * the proxy (`refused`: the iterator then throws `error` once what it holds is taken).
   */
  end(error: SlotlinkError | null, refused = false): void {
    if (this.ended) return;
    this.ended = { error, refused };
    this.settleReady(error ?? new ClosedError(`subscription to "${this.subject}" (unsubscribed)`));
    // What it still holds no longer holds the endpoint's reading back.
    if (this.policy === SubscriptionPolicy.BLOCK && this.heldBytes > 0) this.owner.release(this.heldBytes);
    for (const p of this.pullers.splice(0)) {
      if (refused) p.reject(error!);
      else p.resolve({ value: undefined, done: true });
    }
    this.resolveClosed(error);
  }

  private take(): Message {
    const m = this.held[this.head]!;
    this.held[this.head++] = undefined as unknown as Message;
    if (this.head === this.held.length) {
      this.held.length = 0;
      this.head = 0;
    }
    this.heldBytes -= m.data.length;
    if (this.policy === SubscriptionPolicy.BLOCK && !this.ended) this.owner.release(m.data.length);
    return m;
  }
}
