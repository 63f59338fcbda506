/**
 * The router: where each message read from a slot, or arriving on a link, goes. Sends and
 * requests go where their address leads (routes.ts). A reply or error goes back only to the
 * requester whose request its writer received, once; anything else is refused and counted.
 * A destination that does not resolve gets an ERROR back to the sender, never a silent drop.
 * Publications are publications.ts's.
 *
 * Everything the proxy holds for one source is bounded: a local receiver whose queue passes
 * its limit pauses the slots that feed it; answers the proxy queues for a process pause that
 * process while they wait; a remote destination is guarded by credit on its link, and what
 * arrives from a peer is consumed (its credit returned) only once it is in a slot or its
 * answer has left for the peer. (Over 250 lines: local messages, messages from links and a
 * peer's restart all answer through the same few paths, kept together.)
 */
import { PROXY_ADDRESS, addressBytes, parseAddress } from '../slot/address.js';
import { ErrorCode, LinkProtocolError, SlotlinkError, type ErrorCode as Code } from '../errors.js';
import { creditCost } from '../link/credit.js';
import type { DataFrame } from '../link/frame-decoder.js';
import type { DeliverySink, Link, SessionListener } from '../link/link.js';
import type { InCredit } from '../link/receive-credit.js';
import { AddressCache } from '../slot/address-cache.js';
import { copyBytes } from '../util/bytes.js';
import { RecordKind, addressOf, encodeErrorPayload as errorPayload, type MessageView } from '../slot/record.js';
import type { Directory } from './directory.js';
import { Publications } from './publications.js';
import type { RegisteredProcess } from './registered-process.js';
import { Routes, type LinkLookup, type Route } from './routes.js';
import type { Subscription } from './subscriptions.js';

export interface RouterCounters {
  routed: number;
  /** Messages that went out on a link. */
  toLinks: number;
  /** Messages that came in on a link. */
  fromLinks: number;
  /** Sends/requests to a destination that did not resolve (answered with an error). */
  noRoute: number;
  /** Replies whose requester had gone away. */
  repliesDropped: number;
  /** Replies and errors that answered no request their writer had received (refused). */
  repliesRefused: number;
  /** Requests refused because their receiver, or their sender, had too many unanswered. */
  requestsRefused: number;
}

const MAX_CACHED_SENDERS = 4096;
const PROXY_ADDRESS_BYTES = addressBytes(PROXY_ADDRESS);

export class Router implements DeliverySink, SessionListener {
  readonly counters: RouterCounters = { routed: 0, toLinks: 0, fromLinks: 0, noRoute: 0, repliesDropped: 0, repliesRefused: 0, requestsRefused: 0 };
  private readonly routes: Routes;
  /** Where publications go: subscribers here, and peers with subscribers. */
  readonly publications: Publications;
  /** Stable copies of remote senders' addresses, and their credit keys on the way back. */
  private readonly senders = new AddressCache<{ from: Uint8Array; key: string }>(MAX_CACHED_SENDERS);
  /** The DATA frame being delivered: its link, route, sender, and the copy its waiting messages share. */
  private readonly run: { route: Route | null; from: Uint8Array; key: string; copy: Uint8Array | null; copyBase: number } = { route: null, from: new Uint8Array(0), key: '', copy: null, copyBase: 0 };

  constructor(
    private readonly node: string,
    private readonly directory: Directory,
    /** Queue bytes per receiver past which its senders are paused. */
    private readonly maxQueuedBytes: number,
    /** A drop-oldest subscription dropped publications: its process is to hear of it. */
    dropped: (sub: Subscription<RegisteredProcess>) => void = () => {},
  ) {
    this.routes = new Routes(node, directory);
    this.publications = new Publications(directory, maxQueuedBytes, dropped);
  }

  /** Where the links to peers are (none until the proxy has them). */
  set links(links: LinkLookup) {
    this.routes.links = links;
    this.publications.links = links;
  }

  // ---- from local processes ----

  /** A message a local process wrote into its slot. */
  route(src: RegisteredProcess, m: MessageView): void {
    if (m.kind === RecordKind.PUBLISH) return this.publications.fromProcess(src, m);
    if (m.kind === RecordKind.REPLY || m.kind === RecordKind.ERROR) return this.answerFrom(src, m);
    const r = this.routes.outbound(m);
    const end = m.payloadStart + m.payloadBytes;
    if (r.type === 'proxy') {
      if (m.kind === RecordKind.REQUEST) this.answer(src, RecordKind.REPLY, PROXY_ADDRESS_BYTES, m.requestId, m.buffer, m.payloadStart, end);
      else this.answerError(src, PROXY_ADDRESS_BYTES, 0, ErrorCode.NO_ROUTE, `"${PROXY_ADDRESS}" (the proxy) answers requests only`);
      return;
    }
    if (r.type === 'remote') {
      const t = r.targets[r.next++ % r.targets.length]!;
      if (m.kind === RecordKind.REQUEST && !src.awaiting.add(m.requestId, t.link, r.to)) {
        this.counters.requestsRefused++;
        return this.answerError(src, r.to, m.requestId, ErrorCode.TOO_MANY_REQUESTS, `this process already waits for ${src.awaiting.size} answers over links: wait for some before sending more requests`);
      }
      this.counters.toLinks++;
      t.link.send(t.credit, src.addressBytes, src, m.kind, m.requestId, m.buffer, m.payloadStart, end);
      return;
    }
    const dest = this.routes.pick(r);
    if (!dest) {
      this.counters.noRoute++;
      const payload = r.type === 'error' ? r.payload : errorPayload(ErrorCode.NO_ROUTE, `no route to "${addressOf(m)}": its process has gone away`);
      this.answer(src, RecordKind.ERROR, addressBytes(addressOf(m)), m.requestId, payload);
      return;
    }
    if (m.kind === RecordKind.REQUEST && !dest.openRequests.add(m.requestId, src.addressBytes, { slot: src, link: null })) {
      this.counters.requestsRefused++;
      return this.answerError(src, dest.addressBytes, m.requestId, ErrorCode.TOO_MANY_REQUESTS, tooMany(dest));
    }
    this.counters.routed++;
    this.deliver(src.addressBytes, src, dest, m.kind, m.requestId, m.buffer, m.payloadStart, end);
  }

  /** A reply or error a local process wrote: passed on only to the requester it answers. */
  private answerFrom(src: RegisteredProcess, m: MessageView): void {
    const requester = m.requestId === 0 ? null : src.openRequests.take(m.requestId, m.buffer, m.addressStart, m.addressBytes);
    if (!requester) {
      this.counters.repliesRefused++;
      const kind = m.kind === RecordKind.REPLY ? 'REPLY' : 'ERROR';
      const to = addressOf(m);
      return this.answerError(src, addressBytes(to), 0, ErrorCode.UNEXPECTED_REPLY, `a ${kind} to "${to}" with requestId ${m.requestId} answers no request this process received (or one it already answered); it was not delivered`);
    }
    const end = m.payloadStart + m.payloadBytes;
    if (requester.slot) {
      if (requester.slot.closed) return void this.counters.repliesDropped++;
      this.counters.routed++;
      return this.deliver(src.addressBytes, src, requester.slot, m.kind, m.requestId, m.buffer, m.payloadStart, end);
    }
    this.counters.toLinks++;
    requester.link.send(requester.link.creditFor(requester.key), src.addressBytes, src, m.kind, m.requestId, m.buffer, m.payloadStart, end);
  }

  /**
   * Queues what the proxy itself answers a process (a reply from `~proxy`, an error) into
   * its slot. Answers count against the process like anything else it is sent: past the
   * limit, the proxy stops reading its slot until it has read them.
   */
  answer(to: RegisteredProcess, kind: RecordKind, from: Uint8Array, requestId: number, source: Uint8Array, start = 0, end = source.length): void {
    if (to.closed) return;
    to.mailbox.enqueue(kind, from, requestId, source, null, start, end);
    if (to.mailbox.pendingBytes > this.maxQueuedBytes) to.queueGate.hold(to);
  }

  private answerError(to: RegisteredProcess, about: Uint8Array, requestId: number, code: Code, message: string): void {
    this.answer(to, RecordKind.ERROR, about, requestId, errorPayload(code, message));
  }

  /**
   * Writes `source[start, end)` into `dest`'s slot, or queues it; pauses `src` while
   * `dest` is over its limit. A SEND still queued when `dest` goes away is reported to its
   * sender (a request is answered through `dest`'s open requests).
   */
  deliver(from: Uint8Array, src: RegisteredProcess | null, dest: RegisteredProcess, kind: RecordKind, requestId: number, source: Uint8Array, start = 0, end = source.length): void {
    const mb = dest.mailbox;
    if (mb.trySend(kind, from, requestId, source, start, end)) return;
    const gone = kind === RecordKind.SEND && src ? () => this.answerError(src, dest.addressBytes, 0, ErrorCode.RECEIVER_GONE, receiverGone(dest, UNREAD)) : null;
    mb.enqueue(kind, from, requestId, source, null, start, end, gone);
    if (src && mb.pendingBytes > this.maxQueuedBytes) dest.queueGate.hold(src);
  }

  /** `dest` wrote out its whole queue: let its senders go on. */
  drained(dest: RegisteredProcess): void {
    dest.queueGate.open();
  }

  /** A slot went away: whoever waited on it goes on, and whoever it owed an answer hears why. */
  forget(slot: RegisteredProcess): void {
    this.drained(slot);
    const open = slot.openRequests.takeAll();
    if (open.length === 0) return;
    const payload = errorPayload(ErrorCode.RECEIVER_GONE, receiverGone(slot, UNANSWERED));
    for (const r of open) {
      const q = r.requester;
      if (q.slot) this.answer(q.slot, RecordKind.ERROR, slot.addressBytes, r.requestId, payload);
      else this.errorAcross(q.link, q.key, slot.addressBytes, r.requestId, payload, null);
    }
  }

  // ---- sessions (SessionListener) ----

  /** `count` SENDs a link may not have delivered: their local sender hears it of each. */
  failBack(from: Uint8Array, dst: string, count: number, error: SlotlinkError): void {
    const slot = this.localInstance(Buffer.from(from.buffer, from.byteOffset, from.length).toString('latin1'));
    if (!slot) return;
    const about = addressBytes(dst);
    const payload = errorPayload(error.code, error.message);
    for (let i = 0; i < count; i++) this.answer(slot, RecordKind.ERROR, about, 0, payload);
  }

  /** A peer restarted or its link closed: every request waiting for an answer over that link fails now, not at its timeout. */
  answersLost(link: Link, error: SlotlinkError): void {
    const payload = errorPayload(error.code, error.message);
    for (const slot of this.directory.slots()) for (const r of slot.awaiting.takeLink(link)) this.answer(slot, RecordKind.ERROR, r.to, r.requestId, payload);
  }

  /** The local process an instance address (`name~id.generation@node`) names, if it is still here. */
  private localInstance(address: string): RegisteredProcess | undefined {
    try {
      const a = parseAddress(address);
      const slot = a.instance && a.node === this.node ? this.directory.instance(a.instance) : undefined;
      return slot && !slot.closed ? slot : undefined;
    } catch {
      return undefined;
    }
  }

  // ---- from links (DeliverySink) ----

  /** A DATA frame from a peer: its messages share source and destination, resolved once. */
  receive(link: Link, run: DataFrame, credit: InCredit): void {
    if (!run.next()) return;
    this.startRun(link, run);
    // A frame to "~publish" holds publications only (the decoder checked).
    if (run.kind === RecordKind.PUBLISH) return this.publications.fromLink(run, this.run.from, credit);
    do this.fromLink(link, run, credit);
    while (run.next());
  }

  /** One message from a peer: into the local process it names, or answered with why not. */
  private fromLink(link: Link, f: DataFrame, credit: InCredit): void {
    this.counters.fromLinks++;
    const dest = this.routes.pick(this.run.route!);
    const cost = creditCost(f.payloadBytes);
    if (!dest) return this.undeliverableFromLink(link, f, credit, cost);
    if (f.kind !== RecordKind.SEND && !this.admitFromLink(link, f, dest, credit, cost)) return;
    if (dest.mailbox.trySend(f.kind, this.run.from, f.requestId, f.buffer, f.payloadStart, f.payloadStart + f.payloadBytes)) return credit.consume(cost);
    this.queueFromLink(link, f, dest, credit, cost);
  }

  /**
   * A request is noted (or refused when its receiver holds too many); an answer passes only
   * if its requester here sent that request over this link (an ERROR without a requestId is
   * a peer proxy's report on an undeliverable send). False when it was refused.
   */
  private admitFromLink(link: Link, f: DataFrame, dest: RegisteredProcess, credit: InCredit, cost: number): boolean {
    const run = this.run;
    const consumed = () => credit.consume(cost);
    if (f.kind === RecordKind.REQUEST) {
      if (dest.openRequests.add(f.requestId, run.from, { slot: null, link, key: run.key })) return true;
      this.counters.requestsRefused++;
      this.errorAcross(link, run.key, dest.addressBytes, f.requestId, errorPayload(ErrorCode.TOO_MANY_REQUESTS, tooMany(dest)), consumed);
      return false;
    }
    if (f.requestId === 0 || dest.awaiting.take(f.requestId, link, f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes))) return true;
    this.counters.repliesRefused++;
    const to = `${addressOf(f)}@${this.node}`;
    this.errorAcross(link, run.key, addressBytes(to), 0, errorPayload(ErrorCode.UNEXPECTED_REPLY, `an answer with requestId ${f.requestId} to "${to}" answers no request it sent; it was not delivered`), consumed);
    return false;
  }

  /** Nobody here to take it: an answer is dropped; a send or request is answered with why. */
  private undeliverableFromLink(link: Link, f: DataFrame, credit: InCredit, cost: number): void {
    if (f.kind === RecordKind.REPLY || f.kind === RecordKind.ERROR) {
      this.counters.repliesDropped++;
      return credit.consume(cost);
    }
    this.counters.noRoute++;
    const r = this.run.route!;
    const to = `${addressOf(f)}@${this.node}`;
    const payload = r.type === 'error' ? r.payload : errorPayload(ErrorCode.NO_ROUTE, `no route to "${to}": its process has gone away`);
    // Consumed once the answer has left: a peer whose answers cannot leave is held by its credit.
    this.errorAcross(link, this.run.key, addressBytes(to), f.requestId, payload, () => credit.consume(cost));
  }

  /**
   * The receiver's slot is full: the message waits in its queue, consumed once it is in the
   * slot. The frame's buffer is the socket's chunk: the rest of this frame is copied once
   * (not each message, not the whole chunk) and its messages wait on that copy.
   */
  private queueFromLink(link: Link, f: DataFrame, dest: RegisteredProcess, credit: InCredit, cost: number): void {
    const run = this.run;
    if (!run.copy) {
      run.copy = copyBytes(f.buffer, f.payloadStart, f.frameEnd);
      run.copyBase = f.payloadStart;
    }
    const consumed = () => credit.consume(cost);
    const kind = f.kind;
    const { key } = run;
    const gone = () => {
      consumed();
      if (kind === RecordKind.SEND) this.errorAcross(link, key, dest.addressBytes, 0, errorPayload(ErrorCode.RECEIVER_GONE, receiverGone(dest, UNREAD)), null);
    };
    const start = f.payloadStart - run.copyBase;
    dest.mailbox.enqueue(kind, run.from, f.requestId, run.copy, consumed, start, start + f.payloadBytes, gone);
  }

  /** The first message of a DATA frame: its route, and its sender (which must be on the peer that sent it). */
  private startRun(link: Link, f: DataFrame): void {
    const run = this.run;
    run.copy = null;
    const byName = f.kind === RecordKind.SEND || f.kind === RecordKind.REQUEST;
    run.route = f.kind === RecordKind.PUBLISH ? null : this.routes.inbound(f, byName);
    let sender = this.senders.get(f.buffer, f.srcStart, f.srcBytes);
    if (!sender) {
      const text = f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes);
      const at = text.indexOf('@');
      sender = { from: copyBytes(f.buffer, f.srcStart, f.srcStart + f.srcBytes), key: at < 0 ? text : text.slice(0, at) };
      this.senders.set(f.buffer, f.srcStart, f.srcBytes, sender);
    }
    // A peer speaks for its own processes only: the `from` a receiver sees cannot name another node.
    const node = f.buffer.latin1Slice(f.srcStart + sender.key.length + 1, f.srcStart + f.srcBytes);
    if (node !== link.peer) throw new LinkProtocolError(`DATA frame: source "${f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes)}" is not an address on node "${link.peer}"`);
    run.from = sender.from;
    run.key = sender.key;
  }

  /** An ERROR from `from` over `link` to the peer's process `key`; `onSent` once it has left. */
  private errorAcross(link: Link, key: string, from: Uint8Array, requestId: number, payload: Uint8Array, onSent: (() => void) | null): void {
    link.send(link.creditFor(key), from, null, RecordKind.ERROR, requestId, payload, 0, payload.length, onSent);
  }

}

function tooMany(dest: RegisteredProcess): string {
  return `"${dest.address}" has ${dest.openRequests.size} requests unanswered, its maximum: retry later`;
}

const UNANSWERED = 'answering this request; it may or may not have acted on it';
const UNREAD = 'this message reached its slot; it was not delivered';

function receiverGone(slot: RegisteredProcess, what: typeof UNANSWERED | typeof UNREAD): string {
  return `"${slot.address}" went away before ${what}`;
}
