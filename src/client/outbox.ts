/**
 * Where what an endpoint's application writes goes, across registrations: into the current
 * slot when it has room, queued behind it when not, and held (held-sends.ts) while there is
 * no slot that takes sends: the proxy drains before it goes, or is gone and the endpoint
 * registers again. One bound, maxPendingBytes, covers what is queued and held together;
 * what is held waits at most outageWaitMs. When a registration ends, what never got (all)
 * into its slot is taken back and goes first into the next.
 */
import { BackPressureError, DisconnectedError, MessageTooLargeError, type SlotlinkError } from '../errors.js';
import { RecordKind } from '../slot/record.js';
import type { Pending } from '../slot/send-queue.js';
import type { Attachment } from './attachment.js';
import { HeldSends } from './held-sends.js';

export interface OutboxLimits {
  maxPendingBytes: number;
  outageWaitMs: number;
}

/** What the outbox asks its endpoint. */
export interface OutboxOwner {
  /** Whether the endpoint will register again (sends may wait for that). */
  reconnecting(): boolean;
  /** The error for work refused because the endpoint has closed, or is closing. */
  closedError(): SlotlinkError;
}

interface AttachWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

const DONE = Promise.resolve();
const decoder = new TextDecoder();

export class Outbox {
  private readonly held: HeldSends;
  /** writable() and flush() waiting for a registration that takes sends. */
  private readonly attachWaiters = new Set<AttachWaiter>();
  /** When the current outage began (the proxy said it drains, or the connection ended); null while a slot takes sends. */
  private outageSince: number | null = null;

  constructor(public attachment: Attachment, private readonly limits: OutboxLimits, private readonly owner: OutboxOwner) {
    this.held = new HeldSends((p) => this.expired(p));
  }

  /** Bytes queued behind the slot and held for the next one. */
  get queuedBytes(): number {
    return (this.attachment.ended ? 0 : this.attachment.mailbox.pendingBytes) + this.held.bytes;
  }

  /** Into the slot now if it has room, else queued behind it (or held during an outage) up to maxPendingBytes. */
  put(kind: RecordKind, address: Uint8Array, requestId: number, bytes: Uint8Array): Promise<void> {
    const a = this.attachment;
    if (a.accepting && a.mailbox.trySend(kind, address, requestId, bytes)) return DONE;
    const queued = this.queuedBytes;
    if (queued + bytes.length > this.limits.maxPendingBytes) return Promise.reject(new BackPressureError(queued, this.limits.maxPendingBytes));
    if (a.accepting) return new Promise((resolve, reject) => a.mailbox.enqueue(kind, address, requestId, bytes, resolve, 0, bytes.length, reject));
    if (!this.owner.reconnecting()) return Promise.reject(this.owner.closedError());
    // Never before what was held earlier: deadlines do not decrease along the queue.
    const deadline = Math.max(Date.now(), this.outageSince ?? 0) + this.limits.outageWaitMs;
    return new Promise((resolve, reject) =>
      this.held.push({ kind, address, requestId, source: bytes, start: 0, end: bytes.length, offset: 0, done: resolve, abandoned: reject, key: address, cancelled: false, settled: false }, deadline),
    );
  }

  /** Into the slot now, or false. */
  trySend(kind: RecordKind, address: Uint8Array, requestId: number, bytes: Uint8Array): boolean {
    const a = this.attachment;
    return a.accepting && a.mailbox.trySend(kind, address, requestId, bytes);
  }

  /** Resolves when everything queued is in the slot and it has room; during an outage, once registered again. */
  async writable(): Promise<void> {
    for (;;) {
      if (!this.attachment.accepting) await this.whenAttached();
      const a = this.attachment;
      if (!a.mailbox.backlogged && a.slot.writer.hasSpace()) return;
      try {
        return await a.mailbox.whenWritable();
      } catch (err) {
        if (!this.owner.reconnecting()) throw this.owner.closedError();
        if (a === this.attachment && a.accepting) throw err;
        // That registration ended meanwhile: wait for the next.
      }
    }
  }

  /** Resolves once a registration takes sends; rejects after outageWaitMs, or when the endpoint closes. */
  whenAttached(): Promise<void> {
    if (this.attachment.accepting) return DONE;
    if (!this.owner.reconnecting()) return Promise.reject(this.owner.closedError());
    return new Promise((resolve, reject) => {
      const wait = this.limits.outageWaitMs;
      const settle = (then: () => void) => {
        clearTimeout(timer);
        this.attachWaiters.delete(w);
        then();
      };
      const w: AttachWaiter = { resolve: () => settle(resolve), reject: (err) => settle(() => reject(err)) };
      const timer = setTimeout(() => w.reject(new DisconnectedError(`no proxy to write to for ${wait} ms (outageWaitMs); the endpoint goes on trying to register again`)), wait);
      this.attachWaiters.add(w);
    });
  }

  /** The proxy drains: nothing new goes into its slot; what is sent from now on is held. */
  outageBegins(): void {
    this.outageSince ??= Date.now();
  }

  /**
   * The registration ended and another will be made: `left` (what never got all into its
   * slot) is held, first. Returns the ids of the requests held, whose REQUEST has not left.
   */
  detached(left: Pending[]): Set<number> {
    this.outageBegins();
    this.held.carry(left, this.outageSince! + this.limits.outageWaitMs);
    return this.held.requestIds();
  }

  /** A new registration: what was held goes into its slot, in order, and waiting writers go on. */
  attached(a: Attachment): void {
    this.attachment = a;
    if (!a.accepting) return; // draining already: held for the next
    this.outageSince = null;
    const max = a.welcome.layout.maxMessageBytes;
    for (const p of this.held.takeAll()) {
      if (p.end - p.start > max) p.abandoned?.(new MessageTooLargeError(p.end - p.start, max));
      else a.mailbox.enqueue(p.kind, p.address, p.requestId, p.source, p.done, p.start, p.end, p.abandoned);
    }
    for (const w of [...this.attachWaiters]) w.resolve();
  }

  /** The endpoint ended: `left` and everything held reject with `error`, and so does whoever waits. */
  close(left: Pending[], error: SlotlinkError): void {
    // Never handed to a proxy.
    for (const p of [...left, ...this.held.takeAll()]) p.abandoned?.(error);
    for (const w of [...this.attachWaiters]) w.reject(error);
  }

  /** A message held during an outage waited its outageWaitMs out. */
  private expired(p: Pending): void {
    const what = p.kind === RecordKind.REQUEST ? 'request' : p.kind === RecordKind.SEND ? 'message' : 'answer';
    p.abandoned?.(new DisconnectedError(`${what} to "${decoder.decode(p.address)}" not sent: no proxy took it within ${this.limits.outageWaitMs} ms (outageWaitMs); the endpoint goes on trying to register again`));
  }
}
