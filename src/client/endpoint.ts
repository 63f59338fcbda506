/**
 * An endpoint: what a process holds after connect(), for as long as it wants to be
 * reachable under its name. It outlives its registrations. Each registration is an
 * Attachment (a slot and the connection to the proxy, attachment.ts); when one ends other
 * than by close() or drain() (the proxy crashed, restarted or shut down) the endpoint
 * registers again (reconnector.ts) and goes on at a new address. What lives across
 * registrations is here: the public API, the requests waiting for answers, the inbox, the
 * sends held during an outage, the status events. (Over 250 lines: it is the whole public
 * API of a process, with its doc comments, and the life cycle that ties its parts together;
 * each part is in a file of its own.)
 */
import { EventEmitter } from 'node:events';
import { PROXY_ADDRESS, parseAddress } from '../slot/address.js';
import { AbortedError, ClosedError, DisconnectedError, MessageTooLargeError, type SlotlinkError, type ErrorCode as Code } from '../errors.js';
import { type MailboxStats } from '../slot/mailbox.js';
import { RecordKind, encodeErrorPayload } from '../slot/record.js';
import { checkSubject } from '../slot/subject.js';
import type { Pending } from '../slot/send-queue.js';
import type { Slot } from '../slot/slot.js';
import { Arrivals } from './arrivals.js';
import type { Attachment, AttachmentHandler } from './attachment.js';
import { Inbox } from './inbox.js';
import type { Message, Payload, Replier } from './message.js';
import { Outbox } from './outbox.js';
import { PendingRequests } from './pending-requests.js';
import { endIsFinal, type ReconnectPolicy } from './reconnect-policy.js';
import { Reconnector } from './reconnector.js';
import { Responder, type RequestHandler } from './responder.js';
import { StatusFeed, StatusType, type StatusEvent, type StatusIterator } from './status.js';
import type { SubscribeOptions, Subscription } from './subscription.js';
import { Subscriptions } from './subscriptions.js';

export type { Payload };

export interface RequestOptions {
  /** Milliseconds to wait for the reply; 0 waits forever. Default: `CLIENT_DEFAULTS.requestTimeoutMs` (30 000). */
  timeout?: number;
  signal?: AbortSignal;
}

/** What connect() settled for the endpoint (src/contract/defaults.ts has the defaults). */
export interface EndpointSettings {
  /** Bytes send() may queue behind a full slot, or hold during an outage, before it refuses with BackPressureError. */
  maxPendingBytes: number;
  /** Bytes of received messages held for the iterator before the slot stops being read. */
  maxInboxBytes: number;
  /** How long sends, requests, writable() and flush() wait for the proxy during an outage. */
  outageWaitMs: number;
  requestTimeoutMs: number;
  /** Events one status() iterator holds before it forgets the oldest. */
  statusEvents: number;
}

/** How to register again; null: the endpoint ends with its registration. */
export interface Reregistration {
  open: () => Promise<Attachment>;
  policy: ReconnectPolicy;
  socketPath: string;
}

/** A message that could not be delivered (unknown name, receiver gone, ...). */
export interface Undeliverable {
  /** The destination it was sent to. */
  to: string;
  error: SlotlinkError;
}

export interface EndpointStats extends MailboxStats {
  /** The current registration's address. */
  address: string;
  pendingRequests: number;
  /** Replies that answered no pending request (late after a timeout, or not from the destination asked). */
  repliesIgnored: number;
  inboxBytes: number;
  /** Registrations made again after the connection to the proxy was lost. */
  reconnects: number;
  /** Messages that arrived after drain() began, while the slot was still read for answers: not delivered (requests were answered with an error). */
  refusedWhileDraining: number;
  /** Subscriptions open, and publications that arrived for ones already ended. */
  subscriptions: number;
  publicationsIgnored: number;
}

/** A subscription dropped publications because its application fell behind (drop-oldest). */
export interface SlowSubscription {
  subscription: Subscription;
  /** How many were dropped this time (`subscription.dropped` has them all). */
  dropped: number;
}

/** Counters summed over every registration the endpoint has had. */
const SUMMED = ['messagesIn', 'bytesIn', 'messagesOut', 'bytesOut', 'writerWaits', 'sleeps', 'cellsIn', 'cellsOut', 'doorbellsRung', 'doorbellsSaved'] as const;
type Totals = Record<(typeof SUMMED)[number], number>;

export interface EndpointEvents {
  undeliverable: [Undeliverable];
  slow: [SlowSubscription];
  close: [SlotlinkError | null];
}

type State = 'open' | 'draining' | 'closing' | 'closed';

const encoder = new TextEncoder();
const MAX_CACHED_ADDRESSES = 1024;
const FLUSH_PAYLOAD = encoder.encode('flush');

export class Endpoint extends EventEmitter<EndpointEvents> implements AsyncIterable<Message>, Replier {
  /** The name this process registered. */
  readonly name: string;
  /**
   * Resolves when the endpoint has ended for good (close(), drain(), a refusal no attempt
   * can mend, the reconnect attempts run out, or the connection lost with `reconnect:
   * false`), with the reason if it was not close() or drain().
   */
  readonly closed: Promise<SlotlinkError | null>;

  /** The current registration; during an outage, the last one (ended). */
  private attachment: Attachment;
  private readonly reconnector: Reconnector | null;
  private readonly outbox: Outbox;
  private readonly pending = new PendingRequests();
  private readonly inbox: Inbox;
  private readonly responder = new Responder();
  private readonly feed: StatusFeed;
  private readonly arrivals: Arrivals;
  private readonly subscriptions: Subscriptions;
  private readonly addresses = new Map<string, Uint8Array>();
  private readonly subjects = new Map<string, Uint8Array>();
  /** Why the slot is not read now: the inbox is full, or drain() stopped receiving. */
  private readonly readingPausedBy = new Set<'inbox' | 'drain'>();
  private readonly totals: Totals = Object.fromEntries(SUMMED.map((k) => [k, 0])) as Totals;
  private reconnects = 0;
  /** False once drain() began: no new message reaches the application, through to the end. */
  private receiving = true;
  private state: State = 'open';
  private closeReason: SlotlinkError | null = null;
  private resolveClosed!: (r: SlotlinkError | null) => void;

  /** @internal use connect() */
  constructor(first: Attachment, private readonly settings: EndpointSettings, again: Reregistration | null) {
    super();
    this.name = first.welcome.name;
    this.attachment = first;
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.outbox = new Outbox(first, settings, {
      reconnecting: () => this.reconnector !== null && (this.state === 'open' || this.state === 'draining'),
      closedError: () => this.closedError(),
    });
    this.feed = new StatusFeed(settings.statusEvents);
    this.inbox = new Inbox({ pause: () => this.pauseReading('inbox', true), resume: () => this.pauseReading('inbox', false) }, settings.maxInboxBytes, () => this.pending.size > 0);
    const inbox = this.inbox;
    this.subscriptions = new Subscriptions({
      // While there is no registration, dropped: reattached() subscribes again.
      control: (frame) => this.attachment.control(frame),
      hold: (n) => inbox.hold(n),
      release: (n) => inbox.release(n),
      slow: (subscription, dropped) => {
        this.feed.push({ type: StatusType.SLOW, subject: subscription.subject, dropped });
        this.emit('slow', { subscription, dropped });
      },
    });
    this.arrivals = new Arrivals(this.inbox, this.responder, this.pending, this.subscriptions, {
      receiving: () => this.receiving,
      address: () => this.address,
      undeliverable: (to, error) => {
        this.feed.push({ type: StatusType.UNDELIVERABLE, to, error });
        this.emit('undeliverable', { to, error });
      },
    });
    this.reconnector = again && new Reconnector(again.open, again.policy, {
      reconnecting: (attempt, delayMs) => this.feed.push({ type: StatusType.RECONNECTING, attempt, delayMs }),
      attached: (a) => this.onReattached(a),
      gaveUp: (error) => this.shutdown(error, []),
    }, again.socketPath);
    first.start(this.handlerFor(first), false);
  }

  /** This process's address, `name~id.generation@node`: a new one after each reconnect (during an outage, the last one). */
  get address(): string {
    return this.attachment.address;
  }

  /** The proxy's node name. */
  get node(): string {
    return this.attachment.welcome.node;
  }

  /** Largest message the proxy accepts. */
  get maxMessageBytes(): number {
    return this.attachment.welcome.layout.maxMessageBytes;
  }

  /** @internal the current registration's slot (tests). */
  get slot(): Slot {
    return this.attachment.slot;
  }

  /**
   * Sends a message. Resolves once it is in the slot (usually at once, without waiting);
   * waits while the slot is full, and during an outage until the endpoint has registered
   * again (up to `outageWaitMs`, then it rejects with DisconnectedError). What is in the slot
   * when the proxy dies is lost with it. Do not change `data` before the promise resolves.
   */
  send(to: string, data: Payload): Promise<void> {
    return this.write(RecordKind.SEND, to, 0, data);
  }

  /**
   * Sends only if the slot has room now; false means "not writable: await writable()"
   * (also during an outage). `data` may be reused as soon as this returns true.
   */
  trySend(to: string, data: Payload): boolean {
    const bytes = this.payload(data);
    return this.outbox.trySend(RecordKind.SEND, this.addressBytes(to), 0, bytes);
  }

  /**
   * Resolves when everything queued is in the slot, so trySend() can succeed again. During
   * an outage it waits for the endpoint to register again, up to `outageWaitMs`.
   */
  writable(): Promise<void> {
    return this.outbox.writable();
  }

  /**
   * Publishes `data` to `subject` (no wildcards): every subscription that matches it, on this
   * host and on every peer, receives it; nobody subscribed is not an error. Resolves once it
   * is in the slot, and waits during an outage, as send() does.
   */
  publish(subject: string, data: Payload): Promise<void> {
    try {
      return this.outbox.put(RecordKind.PUBLISH, this.subjectBytes(subject), 0, this.payload(data));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Subscribes to `subject`, where `*` matches one token and a last `>` the rest
   * (`prices.eu.>`). The subscription is an async iterator of the publications that match,
   * in order per publisher; `unsubscribe()` ends it. Any number share the endpoint's slot, and
   * they are made again at each new registration. Throws InvalidSubjectError for a pattern
   * that breaks the rules; `ready` rejects if the proxy refuses it (too many subscriptions).
   */
  subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    this.checkOpen();
    return this.subscriptions.add(subject, options);
  }

  /**
   * Sends a request and resolves with the reply's payload. If the proxy goes away while it
   * waits for its answer it rejects at once with DisconnectedError (it may or may not have
   * been delivered); sent during an outage, it waits like send().
   */
  request(to: string, data: Payload, options: RequestOptions = {}): Promise<Buffer> {
    const { timeout = this.settings.requestTimeoutMs, signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    let bytes: Uint8Array;
    let address: Uint8Array;
    try {
      bytes = this.payload(data);
      address = this.addressBytes(to);
    } catch (err) {
      return Promise.reject(err);
    }
    const { id, answer } = this.pending.add(to, timeout, signal);
    this.inbox.awaitingAnswer();
    if (this.state === 'draining') this.pauseReading('drain', false); // its answer must get in
    // Same limit as send(): a request that would queue past maxPendingBytes is refused.
    this.outbox.put(RecordKind.REQUEST, address, id, bytes).catch((err: Error) => this.pending.fail(id, err));
    return answer;
  }

  /**
   * Answers every request with `handler`: its return value is the reply, a thrown error
   * becomes an error reply. Requests then no longer appear in the iterator.
   */
  respond(handler: RequestHandler): void {
    this.responder.handler = handler;
  }

  /** Messages (and requests, unless respond() was called) in arrival order, across reconnects; done once the endpoint has closed or drains. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => this.inbox.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /**
   * Status events from now on: disconnected, reconnecting, reconnected, undeliverable, slow.
   * Each call returns an iterator of its own; it holds at most `CLIENT_DEFAULTS.statusEvents`
   * unread events (then forgets the oldest, counting them in `skipped`), ends when the
   * endpoint closes, and return() detaches it.
   */
  status(): StatusIterator {
    return this.feed.subscribe();
  }

  /**
   * Resolves once the proxy has read everything sent before the call (a request to
   * `~proxy`, which the proxy answers after reading all that precedes it in the slot). During
   * an outage it waits like send(); rejects with DisconnectedError if the proxy goes away
   * first, ClosedError once closed.
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request(PROXY_ADDRESS, FLUSH_PAYLOAD, { timeout: 0, signal: options.signal });
  }

  /**
   * Stops receiving and leaves: no new message reaches the iterator or the respond()
   * handler (those already received can still be taken, then the iterator ends; the slot is
   * read only for answers to requests), waits for the handler to answer the requests it
   * has, flushes, then closes. Sending goes on until the close. Resolves once closed.
   */
  async drain(): Promise<void> {
    if (this.state !== 'open') return void (await this.closed);
    this.state = 'draining';
    this.receiving = false;
    this.inbox.end();
    this.subscriptions.endAll(null);
    if (this.pending.size === 0) this.pauseReading('drain', true);
    await this.responder.idle();
    await this.flush().catch(() => {}); // ended meanwhile: close() settles the rest
    await this.close();
  }

  /**
   * Writes out what is queued, then leaves the proxy; the slot is reclaimed. During an
   * outage, what is held for the next registration is rejected with ClosedError.
   */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return void (await this.closed);
    this.state = 'closing';
    this.reconnector?.stop();
    const a = this.attachment;
    if (a.ended) return this.shutdown(null, []);
    await a.idle();
    a.leave();
    await this.closed;
  }

  stats(): EndpointStats {
    const a = this.attachment;
    const live = a.ended ? null : a.mailbox.stats();
    const sums = { ...this.totals };
    if (live) for (const k of SUMMED) sums[k] += live[k];
    return {
      address: this.address,
      ...sums,
      queuedBytes: this.outbox.queuedBytes,
      readingPaused: live?.readingPaused ?? false,
      waitingForSlot: live?.waitingForSlot ?? false,
      pendingRequests: this.pending.size,
      repliesIgnored: this.pending.ignored,
      inboxBytes: this.inbox.bytes,
      reconnects: this.reconnects,
      refusedWhileDraining: this.arrivals.refused,
      subscriptions: this.subscriptions.size,
      publicationsIgnored: this.subscriptions.ignored,
    };
  }

  /** @internal a status event from another part of the endpoint (subscriptions report `slow`). */
  pushStatus(event: StatusEvent): void {
    this.feed.push(event);
  }

  // ---- Replier (used by Message.reply/fail) ----

  /** @internal */
  reply(to: string, requestId: number, data: Payload): Promise<void> {
    return this.write(RecordKind.REPLY, to, requestId, data);
  }

  /** @internal */
  fail(to: string, requestId: number, code: Code, message: string): Promise<void> {
    return this.write(RecordKind.ERROR, to, requestId, encodeErrorPayload(code, message));
  }

  // ---- registrations ----

  /** What `a` reports, bound to it. */
  private handlerFor(a: Attachment): AttachmentHandler {
    const replier = this.replierFor(a);
    return {
      onMessage: (m) => this.arrivals.take(m, replier),
      onDraining: (reason) => this.onDraining(a, reason),
      onEnded: (reason, left) => this.onEnded(a, reason, left),
      onNotice: (frame) => {
        if (a === this.attachment) this.subscriptions.control(frame);
      },
    };
  }

  /**
   * Answers to requests that came by `a` go out only while `a` takes sends: once it ends,
   * the proxy has failed those requests at their requesters, and a new registration could not answer them.
   */
  private replierFor(a: Attachment): Replier {
    const gone = (to: string) =>
      new DisconnectedError(`the request from "${to}" came by a registration with the proxy that has ended (${a.address}): its requester has been told it failed; nothing was sent`);
    return {
      reply: (to, id, data) => (a.accepting ? this.reply(to, id, data) : Promise.reject(gone(to))),
      fail: (to, id, code, message) => (a.accepting ? this.fail(to, id, code, message) : Promise.reject(gone(to))),
    };
  }

  /** The proxy is shutting down. */
  private onDraining(a: Attachment, reason: SlotlinkError): void {
    if (a !== this.attachment) return;
    if (!this.reconnector) {
      // The endpoint ends with this registration: new work is refused from now on.
      if (this.state === 'open' || this.state === 'draining') {
        this.state = 'closing';
        this.closeReason = reason;
      }
      return;
    }
    this.outbox.outageBegins(); // from here sends are held for the next registration
  }

  private onEnded(a: Attachment, reason: SlotlinkError | null, left: Pending[]): void {
    const s = a.mailbox.stats();
    for (const k of SUMMED) this.totals[k] += s[k];
    if (a !== this.attachment) return;
    if (this.reconnector && this.state === 'open' && !endIsFinal(reason)) return this.disconnected(reason, left);
    this.shutdown(reason ?? (this.state === 'closing' ? null : new ClosedError('the registration connection to the proxy')), left);
  }

  /** The registration ended and the endpoint registers again. */
  private disconnected(reason: SlotlinkError | null, left: Pending[]): void {
    // What never got (all) into the old slot goes first into the next; its requests wait on.
    const kept = this.outbox.detached(left);
    this.pending.failExcept(kept, (to) => new DisconnectedError(`request to "${to}": the proxy went away while this request waited for its answer; it may or may not have been delivered: send it again if that is safe`, reason));
    this.feed.push({ type: StatusType.DISCONNECTED, error: reason ?? new DisconnectedError(`the connection to the proxy ended (${this.address}); registering again`) });
    this.reconnector!.start();
  }

  private onReattached(a: Attachment): void {
    if (this.state === 'closing' || this.state === 'closed') return a.abandon();
    this.attachment = a;
    this.reconnects++;
    a.start(this.handlerFor(a), this.readingPausedBy.size > 0);
    this.reattached();
    this.outbox.attached(a);
    this.feed.push({ type: StatusType.RECONNECTED, address: a.address });
  }

  /**
   * Runs after each registration made again, once the new slot is read and before the
   * sends held meanwhile go into it: what the proxy must be told again on a new
   * registration (control frames through `this.attachment.control()`) goes here.
   */
  private reattached(): void {
    for (const frame of this.subscriptions.frames()) this.attachment.control(frame);
  }

  /** The endpoint ends for good. */
  private shutdown(reason: SlotlinkError | null, left: Pending[]): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    this.reconnector?.stop();
    const error = this.closedError();
    this.outbox.close(left, error);
    this.pending.failAll(error);
    this.inbox.end();
    this.subscriptions.endAll(reason);
    this.feed.end();
    this.emit('close', reason);
    this.resolveClosed(reason);
  }

  // ---- writing ----

  private write(kind: RecordKind, to: string, requestId: number, data: Payload): Promise<void> {
    try {
      return this.outbox.put(kind, this.addressBytes(to), requestId, this.payload(data));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private payload(data: Payload): Uint8Array {
    this.checkOpen();
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('message data must be a Uint8Array, Buffer or string');
    if (bytes.length > this.maxMessageBytes) throw new MessageTooLargeError(bytes.length, this.maxMessageBytes);
    return bytes;
  }

  private subjectBytes(subject: string): Uint8Array {
    return encodedOnce(this.subjects, subject, checkSubject);
  }

  private addressBytes(to: string): Uint8Array {
    return encodedOnce(this.addresses, to, parseAddress);
  }

  private checkOpen(): void {
    if (this.state === 'closing' || this.state === 'closed') throw this.closedError();
  }

  private closedError(): ClosedError {
    return new ClosedError(`endpoint ${this.address}`, this.closeReason);
  }

  // ---- reading ----

  private pauseReading(why: 'inbox' | 'drain', paused: boolean): void {
    if (paused) this.readingPausedBy.add(why);
    else this.readingPausedBy.delete(why);
    const mailbox = this.attachment.mailbox;
    if (this.readingPausedBy.size > 0) mailbox.pauseReading();
    else mailbox.resumeReading();
  }
}

/** `text`'s bytes, checked by `check` and encoded the first time it is seen (the cache empties past its bound). */
function encodedOnce(cache: Map<string, Uint8Array>, text: string, check: (text: string) => unknown): Uint8Array {
  let bytes = cache.get(text);
  if (bytes) return bytes;
  check(text);
  if (cache.size >= MAX_CACHED_ADDRESSES) cache.clear();
  bytes = encoder.encode(text);
  cache.set(text, bytes);
  return bytes;
}
