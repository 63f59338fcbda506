/**
 * An endpoint's subscriptions (docs/slot-layout.md §8): each has an id the endpoint chose,
 * sent to the proxy in a `subscribe` frame; publications arrive as PUBLISH records carrying
 * that id, and the proxy's `subscribed`, `unsubscribed` and `dropped` frames are matched to it
 * here. After a new registration, `frames()` gives what to send to have them all again.
 */
import { SlotlinkError, errorFromWire } from '../errors.js';
import { ControlOp, DEFAULT_SUBSCRIPTION_QUEUED_BYTES, MAX_SUBSCRIPTION_ID, SubscriptionPolicy, type ControlFrame, type Subscribe } from '../contract/registration.js';
import { checkPattern } from '../slot/subject.js';
import type { Message } from './message.js';
import { Subscription, type SubscribeOptions, type SubscriptionOwner } from './subscription.js';

/** What the set needs from its endpoint. */
export interface SubscriptionHost {
  /** Sends a control frame to the proxy (dropped while there is no registration: frames() replays). */
  control(frame: ControlFrame): void;
  /** Counts bytes a blocking subscription holds against the inbox bound. */
  hold(bytes: number): void;
  release(bytes: number): void;
  /** A subscription dropped publications. */
  slow(sub: Subscription, messages: number): void;
}

export class Subscriptions implements SubscriptionOwner {
  /** Publications for ids no longer held (they were on their way when it ended). */
  ignored = 0;
  private readonly byId = new Map<number, Subscription>();
  private nextId = 1;

  constructor(private readonly host: SubscriptionHost) {}

  get size(): number {
    return this.byId.size;
  }

  /** A new subscription to `pattern`; throws InvalidSubjectError for a pattern the proxy would refuse. */
  add(pattern: string, options: SubscribeOptions): Subscription {
    checkPattern(pattern);
    const policy = options.policy ?? SubscriptionPolicy.BLOCK;
    if (!(Object.values(SubscriptionPolicy) as unknown[]).includes(policy)) throw new TypeError(`policy must be "block" or "drop-oldest", not ${JSON.stringify(policy)}`);
    const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_SUBSCRIPTION_QUEUED_BYTES;
    if (!Number.isSafeInteger(maxQueuedBytes) || maxQueuedBytes < 1) throw new TypeError(`maxQueuedBytes must be a positive whole number, not ${JSON.stringify(maxQueuedBytes)}`);
    // Ids wrap after 2³² − 1 subscriptions; one still held is skipped.
    let id = this.nextId;
    while (this.byId.has(id)) id = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1;
    this.nextId = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1;
    const sub = new Subscription(this, id, pattern, policy, maxQueuedBytes);
    this.byId.set(id, sub);
    this.host.control(frameOf(sub));
    return sub;
  }

  /** A PUBLISH record for subscription `id`; false when no subscription holds that id (any more). */
  deliver(id: number, msg: Message): boolean {
    const sub = this.byId.get(id);
    if (!sub) {
      this.ignored++;
      return false;
    }
    sub.put(msg);
    return true;
  }

  /** A control frame about a subscription; false if it is not one. */
  control(frame: ControlFrame): boolean {
    switch (frame.op) {
      case ControlOp.SUBSCRIBED:
        this.byId.get(frame.id)?.confirmed();
        return true;
      case ControlOp.UNSUBSCRIBED: {
        const sub = this.byId.get(frame.id);
        // Without a code it answers our unsubscribe, for a subscription already gone from the map.
        if (sub && frame.code) {
          this.byId.delete(frame.id);
          sub.end(errorFromWire(frame.code, frame.message ?? ''), true);
        }
        return true;
      }
      case ControlOp.DROPPED:
        this.byId.get(frame.id)?.droppedHere(frame.messages);
        return true;
      default:
        return false;
    }
  }

  /** The `subscribe` frames that make every open subscription again (after registering anew). */
  frames(): Subscribe[] {
    return [...this.byId.values()].map(frameOf);
  }

  /** The endpoint has ended: every subscription ends (with `reason` when it was not close()). */
  endAll(reason: SlotlinkError | null): void {
    const all = [...this.byId.values()];
    this.byId.clear();
    for (const sub of all) sub.end(reason);
  }

  // ---- SubscriptionOwner ----

  /** @internal */
  hold(bytes: number): void {
    this.host.hold(bytes);
  }

  /** @internal */
  release(bytes: number): void {
    this.host.release(bytes);
  }

  /** @internal */
  unsubscribe(sub: Subscription): void {
    if (!this.byId.delete(sub.id)) return;
    this.host.control({ op: ControlOp.UNSUBSCRIBE, id: sub.id });
  }

  /** @internal */
  dropped(sub: Subscription, messages: number): void {
    this.host.slow(sub, messages);
  }
}

function frameOf(sub: Subscription): Subscribe {
  const f: Subscribe = { op: ControlOp.SUBSCRIBE, id: sub.id, subject: sub.subject, policy: sub.policy };
  if (sub.policy === SubscriptionPolicy.DROP_OLDEST) f.maxQueuedBytes = sub.maxQueuedBytes;
  return f;
}
