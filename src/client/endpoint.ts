/**
 * An endpoint: what a process holds after connect(). It owns the process's slot and its
 * registration connection; sends and requests go out through the slot, messages arrive
 * through it, and the connection's end is the endpoint's end. (Over 250 lines: it is the
 * whole public API of a process; its pending requests and inbox are in their own files.)
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { parseAddress } from '../slot/address.js';
import {
  AbortedError,
  BackPressureError,
  BadRecordError,
  ClosedError,
  MessageTooLargeError,
  SlotlinkError,
  errorFromWire,
  type ErrorCode as Code,
} from '../errors.js';
import { ControlDecoder, ControlOp, encodeControl, type ControlFrame, type Welcome } from '../contract/registration.js';
import { Mailbox, type MailboxStats } from '../slot/mailbox.js';
import { AddressCache } from '../slot/address-cache.js';
import { RecordKind, addressOf, decodeErrorPayload, encodeErrorPayload, type MessageView } from '../slot/record.js';
import type { Slot } from '../slot/slot.js';
import { checkSubject, subjectBytesError } from '../slot/subject.js';
import { Inbox } from './inbox.js';
import { Message, MessageKind, type Replier } from './message.js';
import { PendingRequests } from './pending-requests.js';
import type { SubscribeOptions, Subscription } from './subscription.js';
import { Subscriptions } from './subscriptions.js';

export type Payload = Uint8Array | string;

export interface RequestOptions {
  /** Milliseconds to wait for the reply. Default 30 000; 0 waits forever. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface EndpointLimits {
  /** Bytes send() may queue behind a full slot before it refuses with BackPressureError. */
  maxPendingBytes: number;
  /** Bytes of received messages held for the iterator before the slot stops being read. */
  maxInboxBytes: number;
}

/** A message that could not be delivered (unknown name, receiver gone, ...). */
export interface Undeliverable {
  /** The destination it was sent to. */
  to: string;
  error: SlotlinkError;
}

export interface EndpointStats extends MailboxStats {
  address: string;
  pendingRequests: number;
  /** Subscriptions open, and publications that arrived for ones already ended. */
  subscriptions: number;
  publicationsIgnored: number;
  /** Replies that answered no pending request (late after a timeout, or not from the destination asked). */
  repliesIgnored: number;
  inboxBytes: number;
}

const DONE = Promise.resolve();
const encoder = new TextEncoder();
const MAX_CACHED_ADDRESSES = 1024;

/** A subscription dropped publications because its application fell behind (drop-oldest). */
export interface SlowSubscription {
  subscription: Subscription;
  /** How many were dropped this time (`subscription.dropped` has them all). */
  dropped: number;
}

export interface EndpointEvents {
  undeliverable: [Undeliverable];
  slow: [SlowSubscription];
  close: [SlotlinkError | null];
}

export class Endpoint extends EventEmitter<EndpointEvents> implements AsyncIterable<Message>, Replier {
  /** This process's own address: `name~id.generation@node`. */
  readonly address: string;
  readonly name: string;
  readonly node: string;
  /** Largest message the proxy accepts. */
  readonly maxMessageBytes: number;
  /** Resolves when the endpoint has closed, with the reason if it was not close(). */
  readonly closed: Promise<SlotlinkError | null>;

  private readonly mailbox: Mailbox;
  private readonly pending = new PendingRequests();
  private readonly inbox: Inbox;
  private readonly addresses = new Map<string, Uint8Array>();
  private readonly subjects = new Map<string, Uint8Array>();
  private readonly subscriptions: Subscriptions;
  /** Sender addresses as strings, found by their bytes: no string built per message. */
  private readonly senders = new AddressCache<string>(MAX_CACHED_ADDRESSES);
  /** Subjects of publications received, checked once each. */
  private readonly subjectsIn = new AddressCache<string>(MAX_CACHED_ADDRESSES);
  private readonly drainWaiters: Array<() => void> = [];
  private responder: ((m: Message) => Payload | void | Promise<Payload | void>) | null = null;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closeReason: SlotlinkError | null = null;
  private resolveClosed!: (r: SlotlinkError | null) => void;

  /** @internal use connect() */
  constructor(readonly slot: Slot, welcome: Welcome, private readonly socket: net.Socket, private readonly limits: EndpointLimits, more: ControlFrame[]) {
    super();
    this.address = welcome.address;
    this.name = welcome.name;
    this.node = welcome.node;
    this.maxMessageBytes = welcome.layout.maxMessageBytes;
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.mailbox = new Mailbox(slot, {
      onMessage: (m) => this.onEnvelope(m),
      onFailure: (err) => this.shutdown(err),
      onDrained: () => {
        for (const w of this.drainWaiters.splice(0)) w();
      },
    });
    const mailbox = this.mailbox;
    this.inbox = new Inbox({ pause: () => mailbox.pauseReading(), resume: () => mailbox.resumeReading() }, limits.maxInboxBytes, () => this.pending.size > 0);
    const inbox = this.inbox;
    this.subscriptions = new Subscriptions({
      control: (frame) => {
        if (!socket.destroyed) socket.write(encodeControl(frame));
      },
      hold: (n) => inbox.hold(n),
      release: (n) => inbox.release(n),
      slow: (subscription, dropped) => this.emit('slow', { subscription, dropped }),
    });
    const decoder = new ControlDecoder();
    const onFrames = (frames: ControlFrame[]) => {
      for (const f of frames) {
        if (this.subscriptions.control(f)) continue;
        if (f.op === ControlOp.CLOSING) this.closeReason = errorFromWire(f.code, f.message);
        if (f.op === ControlOp.DRAINING) this.drainForProxy(errorFromWire(f.code, f.message));
      }
    };
    onFrames(more);
    socket.on('data', (chunk: Buffer) => {
      try {
        onFrames(decoder.push(chunk));
      } catch (err) {
        this.closeReason = err as SlotlinkError;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.shutdown(this.closeReason));
    this.mailbox.start(false);
  }

  /**
   * Sends a message. Resolves once it is in the slot (usually at once, without waiting);
   * waits while the slot is full. Do not change `data` before the promise resolves.
   */
  send(to: string, data: Payload): Promise<void> {
    return this.write(RecordKind.SEND, to, 0, data);
  }

  /**
   * Sends only if the slot has room now; false means "not writable: await writable()".
   * `data` may be reused as soon as this returns true.
   */
  trySend(to: string, data: Payload): boolean {
    const bytes = this.payload(data);
    return this.mailbox.trySend(RecordKind.SEND, this.addressBytes(to), 0, bytes);
  }

  /** Resolves when everything queued is in the slot, so trySend() can succeed again. */
  writable(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ClosedError(`endpoint ${this.address}`, this.closeReason));
    if (!this.mailbox.backlogged && this.slot.writer.hasSpace()) return DONE;
    return this.mailbox.whenWritable();
  }

  /**
   * Publishes `data` to `subject` (no wildcards): every subscription that matches it, on this
   * host and on every peer, receives it; nobody subscribed is not an error. Resolves once it
   * is in the slot, as send() does.
   */
  publish(subject: string, data: Payload): Promise<void> {
    try {
      return this.put(RecordKind.PUBLISH, this.subjectBytes(subject), 0, this.payload(data));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Subscribes to `subject`, where `*` matches one token and a last `>` the rest
   * (`prices.eu.>`). The subscription is an async iterator of the publications that match,
   * in order per publisher; `unsubscribe()` ends it. Any number share the endpoint's slot.
   * Throws InvalidSubjectError for a pattern that breaks the rules; `ready` rejects if the
   * proxy refuses it (too many subscriptions).
   */
  subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    this.checkOpen();
    return this.subscriptions.add(subject, options);
  }

  /** Sends a request and resolves with the reply's payload. */
  request(to: string, data: Payload, options: RequestOptions = {}): Promise<Buffer> {
    const { timeout = 30_000, signal } = options;
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
    // Same limit as send(): a request that would queue past maxPendingBytes is refused.
    this.put(RecordKind.REQUEST, address, id, bytes).catch((err: Error) => this.pending.fail(id, err));
    return answer;
  }

  /**
   * Answers every request with `handler`: its return value is the reply, a thrown error
   * becomes an error reply. Requests then no longer appear in the iterator.
   */
  respond(handler: (request: Message) => Payload | void | Promise<Payload | void>): void {
    this.responder = handler;
  }

  /** Messages (and requests, unless respond() was called) in arrival order. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => this.inbox.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** Writes out what is queued, then leaves the proxy; the slot is reclaimed. */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      await this.closed;
      return;
    }
    this.state = 'closing';
    if (this.mailbox.backlogged) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.mailbox.flush();
    this.socket.end();
    await this.closed;
  }

  /**
   * The proxy is shutting down: accept nothing more, commit everything accepted, and tell
   * the proxy so it can read it all before it goes.
   */
  private drainForProxy(reason: SlotlinkError): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.closeReason = reason;
    const done = () => {
      this.mailbox.flush();
      if (!this.socket.destroyed) this.socket.write(encodeControl({ op: ControlOp.FLUSHED }));
    };
    if (this.mailbox.backlogged) this.drainWaiters.push(done);
    else done();
  }

  stats(): EndpointStats {
    return {
      address: this.address,
      ...this.mailbox.stats(),
      pendingRequests: this.pending.size,
      repliesIgnored: this.pending.ignored,
      inboxBytes: this.inbox.bytes,
      subscriptions: this.subscriptions.size,
      publicationsIgnored: this.subscriptions.ignored,
    };
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

  // ---- internals ----

  private write(kind: RecordKind, to: string, requestId: number, data: Payload): Promise<void> {
    try {
      return this.put(kind, this.addressBytes(to), requestId, this.payload(data));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Into the slot now if it has room, else queued behind it up to maxPendingBytes. */
  private put(kind: RecordKind, address: Uint8Array, requestId: number, bytes: Uint8Array): Promise<void> {
    if (this.mailbox.trySend(kind, address, requestId, bytes)) return DONE;
    if (this.mailbox.pendingBytes + bytes.length > this.limits.maxPendingBytes)
      return Promise.reject(new BackPressureError(this.mailbox.pendingBytes, this.limits.maxPendingBytes));
    return new Promise((resolve, reject) => this.mailbox.enqueue(kind, address, requestId, bytes, resolve, 0, bytes.length, reject));
  }

  private payload(data: Payload): Uint8Array {
    this.checkOpen();
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('message data must be a Uint8Array, Buffer or string');
    if (bytes.length > this.maxMessageBytes) throw new MessageTooLargeError(bytes.length, this.maxMessageBytes);
    return bytes;
  }

  private subjectBytes(subject: string): Uint8Array {
    let bytes = this.subjects.get(subject);
    if (bytes) return bytes;
    checkSubject(subject);
    if (this.subjects.size >= MAX_CACHED_ADDRESSES) this.subjects.clear();
    bytes = encoder.encode(subject);
    this.subjects.set(subject, bytes);
    return bytes;
  }

  private addressBytes(to: string): Uint8Array {
    let bytes = this.addresses.get(to);
    if (bytes) return bytes;
    parseAddress(to);
    if (this.addresses.size >= MAX_CACHED_ADDRESSES) this.addresses.clear();
    bytes = encoder.encode(to);
    this.addresses.set(to, bytes);
    return bytes;
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new ClosedError(`endpoint ${this.address}`, this.closeReason);
  }

  private sender(m: MessageView): string {
    let from = this.senders.get(m.buffer, m.addressStart, m.addressBytes);
    if (from === undefined) {
      from = addressOf(m);
      this.senders.set(m.buffer, m.addressStart, m.addressBytes, from);
    }
    return from;
  }

  /** A publication's subject, checked the first time it is seen (docs/slot-layout.md §6: reading is hostile input). */
  private subject(m: MessageView): string {
    let subject = this.subjectsIn.get(m.buffer, m.addressStart, m.addressBytes);
    if (subject === undefined) {
      const why = subjectBytesError(m.buffer, m.addressStart, m.addressBytes);
      if (why) throw new BadRecordError(`a PUBLISH from the proxy names ${JSON.stringify(addressOf(m))}, not a subject: ${why}`);
      subject = addressOf(m);
      this.subjectsIn.set(m.buffer, m.addressStart, m.addressBytes, subject);
    }
    return subject;
  }

  private onEnvelope(m: MessageView): void {
    switch (m.kind) {
      case RecordKind.SEND:
        return this.inbox.put(new Message(this, MessageKind.SEND, this.sender(m), payloadOf(m), 0));
      case RecordKind.REQUEST: {
        const msg = new Message(this, MessageKind.REQUEST, this.sender(m), payloadOf(m), m.requestId);
        if (this.responder) return this.answer(msg);
        return this.inbox.put(msg);
      }
      case RecordKind.REPLY:
        this.pending.answer(m.requestId, this.sender(m), { reply: payloadOf(m) });
        return;
      case RecordKind.PUBLISH:
        if (m.requestId === 0) throw new BadRecordError('a PUBLISH from the proxy has requestId 0: it must name a subscription');
        this.subscriptions.deliver(m.requestId, new Message(this, MessageKind.PUBLISH, '', payloadOf(m), 0, this.subject(m)));
        return;
      case RecordKind.ERROR: {
        const error = parseError(payloadOf(m));
        if (m.requestId === 0) return void this.emit('undeliverable', { to: addressOf(m), error });
        this.pending.answer(m.requestId, this.sender(m), { error });
        return;
      }
    }
  }

  private answer(msg: Message): void {
    let result;
    try {
      result = this.responder!(msg);
    } catch (err) {
      void msg.fail(errorText(err)).catch(() => {});
      return;
    }
    Promise.resolve(result).then(
      (value) => msg.reply(value ?? EMPTY),
      (err) => msg.fail(errorText(err)),
    ).catch(() => {}); // the endpoint closed meanwhile
  }

  private shutdown(reason: SlotlinkError | null): void {
    if (this.state === 'closed') return;
    const wasClosing = this.state === 'closing';
    this.state = 'closed';
    // What the proxy committed to our slot before going is ours: read it for the iterator.
    this.mailbox.resumeReading();
    this.mailbox.drainAll();
    this.closeReason = reason ?? (wasClosing ? null : new ClosedError('the registration connection to the proxy'));
    // Sends still waiting for room in the slot reject: they were never handed to the proxy.
    this.mailbox.close(new ClosedError(`endpoint ${this.address}`, this.closeReason));
    if (!this.socket.destroyed) this.socket.destroy();
    this.pending.failAll(new ClosedError(`endpoint ${this.address}`, this.closeReason));
    this.subscriptions.endAll(this.closeReason);
    for (const w of this.drainWaiters.splice(0)) w();
    this.inbox.end();
    this.emit('close', this.closeReason);
    this.resolveClosed(this.closeReason);
  }
}

const EMPTY = new Uint8Array(0);

function payloadOf(m: MessageView): Buffer {
  return m.buffer.subarray(m.payloadStart, m.payloadStart + m.payloadBytes);
}

function parseError(payload: Buffer): SlotlinkError {
  const { code, message } = decodeErrorPayload(payload);
  return errorFromWire(code, message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
