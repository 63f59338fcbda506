/**
 * A link: this proxy's session with one peer proxy. It outlives connections: sequence
 * numbers, the resend buffer, what was delivered and the credits all carry over a
 * reconnect, so a dropped connection loses nothing and duplicates nothing as long as both
 * proxies keep running. A peer that restarted (new incarnation) starts a new session, and
 * what it may not have delivered is failed back to the senders, never dropped silently.
 */
import { ErrorCode, SlotlinkError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Pausable } from '../util/gate.js';
import { RecordKind } from '../slot/record.js';
import type { Connection, ConnectionOwner } from './connection.js';
import { CREDIT_PER_MESSAGE } from './credit.js';
import { LINK_PROTOCOL_VERSION, LinkOp, encodeAck, encodeCredit, encodeJson, encodePing, type DataFrame, type DirectoryFrame, type LinkHello } from './frame.js';
import { ReceiveCredits, type InCredit } from './receive-credit.js';
import { ResendBuffer } from './resend-buffer.js';
import { SendCredits, type OutCredit } from './send-credit.js';

export const LinkState = {
  CONNECTING: 'connecting',
  UP: 'up',
  RECONNECTING: 'reconnecting',
  DOWN: 'down',
  CLOSED: 'closed',
} as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

export type LinkStatus =
  | { state: 'connecting'; since: number }
  | { state: 'up'; since: number; remote: string; outbound: boolean }
  | { state: 'reconnecting'; since: number; lastError: string | null }
  | { state: 'down'; since: number; lastError: string | null }
  | { state: 'closed'; since: number };

export interface LinkOptions {
  localNode: string;
  peerNode: string;
  incarnation: string;
  creditWindow: number;
  /** Credit units this side lets its peer have unconsumed, and sends at most unconsumed to it. */
  maxUnackedBytes: number;
  maxMessageBytes: number;
  /** A link not up for this long is "down": sends to it fail at once. */
  unreachableAfterMs: number;
  logger: Logger;
}

/** What a link needs from its proxy. */
export interface LinkHandler {
  /**
   * Deliver one message of a DATA frame to a local process; call
   * link.consumed(credit, creditCost(payloadBytes)) once it is in a slot or answered.
   */
  deliver(link: Link, frame: DataFrame, credit: InCredit): void;
  directory(link: Link, snapshot: DirectoryFrame): void;
  /** `count` SENDs from `from` to `dst` may not have been delivered (the peer restarted): tell their sender. */
  failBack(from: Uint8Array, dst: string, count: number, error: SlotlinkError): void;
  /** The peer restarted: everything waiting for an answer from it will not get one. */
  peerRestarted(link: Link, error: SlotlinkError): void;
  stateChanged(link: Link): void;
  /** A fresh snapshot of local names, to announce. */
  localDirectory(): DirectoryFrame;
}

export interface LinkCounters {
  /** Messages sent and delivered (carried in DATA frames, several to a frame), and their payload bytes. */
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  retransmittedFrames: number;
  duplicatesDropped: number;
  reconnects: number;
  creditStalls: number;
  peerRestarts: number;
  /** PINGs left unanswered because the peer was not reading what this side wrote. */
  pongsSkipped: number;
}

/** A PING is not answered while this much waits to be written to the peer: a peer that never reads cannot grow it. */
const PONG_BACKLOG_BYTES = 1024 * 1024;

export class Link implements ConnectionOwner {
  status: LinkStatus = { state: LinkState.CONNECTING, since: Date.now() };
  conn: Connection | null = null;
  peerIncarnation: string | null = null;
  /** Last directory snapshot from the peer (null until one arrives). */
  peerDirectory: DirectoryFrame | null = null;
  rttMs: number | null = null;
  readonly counters: LinkCounters = { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0, retransmittedFrames: 0, duplicatesDropped: 0, reconnects: 0, creditStalls: 0, peerRestarts: 0, pongsSkipped: 0 };
  private sendSeq = 0;
  private delivered = 0;
  private ackedUpTo = 0;
  private readonly resend = new ResendBuffer();
  private readonly sendCredits: SendCredits;
  private readonly receiveCredits: ReceiveCredits;
  private flushScheduled = false;
  /** The DATA frame being delivered: a duplicate to skip, or its destination's credit. */
  private skippingFrame = false;
  private frameCredit: InCredit | null = null;
  private unreachableTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(readonly options: LinkOptions, private readonly handler: LinkHandler) {
    this.log = options.logger.child({ peer: options.peerNode });
    this.sendCredits = new SendCredits(options.maxUnackedBytes);
    this.receiveCredits = new ReceiveCredits(options.creditWindow, options.maxUnackedBytes);
    this.armUnreachable();
  }

  get peer(): string {
    return this.options.peerNode;
  }

  get isUp(): boolean {
    return this.status.state === LinkState.UP;
  }

  /** Sends and queues go through while the link is up or briefly reconnecting. */
  get accepting(): boolean {
    return this.status.state !== LinkState.DOWN && this.status.state !== LinkState.CLOSED;
  }

  get framesInFlight(): number {
    return this.resend.frames;
  }

  /** Bytes of DATA frames sent and not yet acknowledged as received. */
  get unackedBytes(): number {
    return this.resend.bytes;
  }

  /** Credit units sent and not yet known to be in the peer's slots. */
  get unconfirmedUnits(): number {
    return this.sendCredits.unconfirmed;
  }

  /** Credit units received from the peer and not yet in local slots. */
  get heldUnits(): number {
    return this.receiveCredits.held;
  }

  /** Destinations tracked for credit: towards the peer, and from it. */
  get ledgers(): { out: number; in: number } {
    return { out: this.sendCredits.size, in: this.receiveCredits.size };
  }

  /** Payload bytes held here waiting for credit. */
  get waitingBytes(): number {
    let n = 0;
    for (const c of this.sendCredits.all()) n += c.waitingBytes;
    return n;
  }

  // ---- sending ----

  /** The credit ledger for a destination key (the address without "@node"). */
  creditFor(key: string): OutCredit {
    return this.sendCredits.ledger(key);
  }

  /**
   * Sends `payload[start, end)` to destination `credit.key` on the peer, or holds it until
   * there is credit, pausing `src` (the local slot it came from) meanwhile. `onSent` runs
   * once it is written to the link.
   */
  send(credit: OutCredit, from: Uint8Array, src: Pausable | null, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number, onSent: (() => void) | null = null): void {
    const c = this.sendCredits.current(credit);
    if (c.waiting.length === 0 && this.sendCredits.allows(c, end - start)) {
      this.write(c, from, kind, requestId, payload, start, end);
      onSent?.();
      return;
    }
    c.waiting.push({ from, src, kind, requestId, payload, start, end, onSent });
    if (src && c.blocked.hold(src)) this.counters.creditStalls++;
  }

  private write(credit: OutCredit, from: Uint8Array, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number): void {
    const offset = credit.sent;
    this.sendCredits.wrote(credit, end - start, from, kind);
    this.counters.bytesOut += end - start;
    if (this.resend.append(from, credit.key, kind, requestId, payload, start, end, this.sendSeq + 1, offset)) this.sendSeq++;
    this.counters.framesOut++;
    this.scheduleFlush();
  }

  /** Sends what waits for credit, as far as credit allows; resumes its senders when done. */
  private drainWaiting(credit: OutCredit): void {
    while (credit.waiting.length > 0) {
      const w = credit.waiting[0]!;
      if (!this.sendCredits.allows(credit, w.end - w.start)) return;
      credit.waiting.shift();
      this.write(credit, w.from, w.kind, w.requestId, w.payload, w.start, w.end);
      w.onSent?.();
    }
    credit.blocked.open();
  }

  /**
   * One write per turn of the event loop carries everything due: new DATA frames, the ACK
   * and any CREDIT grants. Fewer, larger TLS records and system calls, and the peer wakes
   * once for all of them.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    // While the link is down, frames stay in the buffer and grants stay due; adopt() resends them.
    if (!this.isUp) return;
    const conn = this.conn!;
    conn.cork();
    for (const bytes of this.resend.take()) conn.write(bytes);
    if (this.delivered > this.ackedUpTo) {
      this.ackedUpTo = this.delivered;
      conn.write(encodeAck(this.delivered));
    }
    for (const [key, limit] of this.receiveCredits.takeGrants()) conn.write(encodeCredit(Buffer.from(key, 'latin1'), limit));
    conn.uncork();
  }

  // ---- receiving (ConnectionOwner) ----

  data(f: DataFrame): void {
    if (f.index === 0) {
      // A frame is a run of messages with one seq: decide for the whole frame at its first.
      this.skippingFrame = f.seq <= this.delivered;
      if (!this.skippingFrame) {
        if (f.seq !== this.delivered + 1) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `DATA frame: sequence ${f.seq} skips ahead of ${this.delivered + 1}`);
        // Checked before the frame counts as delivered: a peer over its credit loses the connection, not a frame.
        const key = f.buffer.latin1Slice(f.addressStart, f.addressStart + f.addressBytes);
        this.frameCredit = this.receiveCredits.receive(key, f.offset, f.messages, f.framePayloadBytes + f.messages * CREDIT_PER_MESSAGE);
        this.delivered = f.seq;
      }
    }
    if (this.skippingFrame) {
      this.counters.duplicatesDropped++;
      return;
    }
    this.counters.framesIn++;
    this.counters.bytesIn += f.payloadBytes;
    this.handler.deliver(this, f, this.frameCredit!);
    this.scheduleFlush();
  }

  /** The local proxy has put a message of `cost` units for this destination into a slot, or answered it. */
  consumed(credit: InCredit, cost: number): void {
    this.receiveCredits.consumed(credit, cost);
    if (this.receiveCredits.hasGrants) this.scheduleFlush();
  }

  ack(seq: number): void {
    if (seq > this.sendSeq) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `ACK frame: sequence ${seq} was never sent (last sent ${this.sendSeq})`);
    this.resend.ack(seq);
  }

  credit(key: Buffer, limit: number): void {
    const c = this.sendCredits.grant(key.toString('latin1'), limit);
    if (c) this.drainWaiting(c);
    // Units confirmed on one destination may let others go that waited for the peer's limit.
    for (const w of this.sendCredits.takeWaitingForPeer()) this.drainWaiting(w);
  }

  wanted(key: Buffer, sent: number): void {
    this.receiveCredits.wanted(key.toString('latin1'), sent);
    this.scheduleFlush();
  }
  json(op: number, body: unknown): void {
    switch (op) {
      case LinkOp.DIRECTORY: {
        const d = body as DirectoryFrame; // checked by the decoder
        if (d.incarnation !== this.peerIncarnation) return;
        if (this.peerDirectory && this.peerDirectory.incarnation === d.incarnation && d.version <= this.peerDirectory.version) return;
        this.peerDirectory = d;
        this.handler.directory(this, d);
        return;
      }
      case LinkOp.ERROR: {
        const e = body as { code?: string; message?: string };
        this.log.warn('peer reported an error', { code: e.code, reason: e.message });
        return;
      }
      case LinkOp.CLOSE:
        this.log.info('peer is closing the link');
        return;
      case LinkOp.HELLO:
        throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, 'HELLO frame after the handshake');
    }
  }

  ping(op: number, time: number): void {
    if (op !== LinkOp.PING) return void (this.rttMs = Number(process.hrtime.bigint()) / 1e6 - time);
    const c = this.conn;
    if (!c) return;
    if (c.socket.writableLength > PONG_BACKLOG_BYTES) return void this.counters.pongsSkipped++;
    c.write(encodePing(LinkOp.PONG, time));
  }

  /** Heartbeat tick: ping, and drop a connection that has gone silent. */
  heartbeat(deadAfterMs: number): void {
    const c = this.conn;
    if (!c || !this.isUp) return;
    if (Date.now() - c.lastHeard > deadAfterMs) {
      this.log.warn('peer silent: dropping the connection', { silentMs: Date.now() - c.lastHeard });
      c.destroy(new SlotlinkError(ErrorCode.LINK_PROTOCOL, `no frame from ${this.peer} for ${deadAfterMs} ms`));
      return;
    }
    c.write(encodePing(LinkOp.PING, Number(process.hrtime.bigint()) / 1e6));
  }

  // ---- connections ----

  /** This proxy's HELLO for a new connection to this peer. */
  hello(): LinkHello {
    return {
      version: LINK_PROTOCOL_VERSION,
      node: this.options.localNode,
      incarnation: this.options.incarnation,
      peerIncarnation: this.peerIncarnation,
      delivered: this.delivered,
      creditWindow: this.options.creditWindow,
      maxUnackedBytes: this.options.maxUnackedBytes,
      maxMessageBytes: this.options.maxMessageBytes,
    };
  }

  /** Makes `conn` (handshake done, peer's HELLO in hand) this link's connection and resumes. */
  adopt(conn: Connection, peer: LinkHello): void {
    const old = this.conn;
    this.conn = conn;
    conn.owner = this;
    if (old && old.isOpen) old.close();
    if (peer.incarnation !== this.peerIncarnation) {
      if (this.peerIncarnation !== null) this.peerRestarted(peer.incarnation);
      this.peerIncarnation = peer.incarnation;
      this.delivered = 0;
      this.ackedUpTo = 0;
      this.peerDirectory = null;
      this.receiveCredits.reset();
    }
    // Each side sends within what the other allows (a new session's ledgers take the peer's window).
    this.sendCredits.start(peer.creditWindow, peer.maxUnackedBytes, this.options.maxUnackedBytes);
    // What the peer delivered refers to our sequence only if it knows this incarnation of us.
    const delivered = peer.peerIncarnation === this.options.incarnation ? peer.delivered : 0;
    if (delivered > this.sendSeq) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `HELLO: peer says it delivered ${delivered}, but only ${this.sendSeq} were sent`);
    let resentFrames = 0;
    for (const b of this.resend.after(delivered)) {
      resentFrames += countFrames(b);
      conn.write(b);
    }
    this.counters.retransmittedFrames += resentFrames;
    if (this.status.state !== LinkState.CONNECTING) this.counters.reconnects++;
    this.setStatus({ state: LinkState.UP, since: Date.now(), remote: conn.remote, outbound: conn.outbound });
    if (this.delivered > 0) conn.write(encodeAck(this.delivered));
    // A grant written to the old connection may be lost: for every destination with units
    // not yet known to be consumed, ask for the current grant (after the resent frames, so
    // the peer has received everything the offset counts).
    for (const c of this.sendCredits.all()) if (c.outstanding) conn.write(encodeCredit(c.key, c.sent, LinkOp.WANTED));
    this.flush();
    this.announce(this.handler.localDirectory());
    for (const c of this.sendCredits.takeWaitingForPeer()) this.drainWaiting(c);
    for (const c of this.sendCredits.all()) if (c.waiting.length > 0) this.drainWaiting(c);
    this.log.info('link up', { remote: conn.remote, outbound: conn.outbound, resentFrames, delivered: this.delivered });
  }

  announce(snapshot: DirectoryFrame): void {
    if (this.isUp) this.conn!.write(encodeJson(LinkOp.DIRECTORY, snapshot));
  }

  closed(conn: Connection, error: SlotlinkError | null): void {
    if (conn !== this.conn) return;
    this.conn = null;
    if (this.status.state === LinkState.CLOSED) return;
    this.log.warn('link lost', { remote: conn.remote, reason: error?.message ?? 'closed' });
    this.setStatus({ state: LinkState.RECONNECTING, since: Date.now(), lastError: error?.message ?? null });
    this.armUnreachable();
  }

  /** Graceful close at shutdown: flush what is written, say goodbye. */
  close(): void {
    if (this.isUp) for (const bytes of this.resend.take()) this.conn!.write(bytes);
    if (this.isUp && this.delivered > this.ackedUpTo) this.conn!.write(encodeAck(this.delivered));
    this.setStatus({ state: LinkState.CLOSED, since: Date.now() });
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.conn?.close();
    this.conn = null;
  }

  private armUnreachable(): void {
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.unreachableTimer = setTimeout(() => {
      this.unreachableTimer = null;
      if (this.isUp || this.status.state === LinkState.CLOSED) return;
      const lastError = 'lastError' in this.status ? this.status.lastError : null;
      this.log.warn('peer unreachable', { forMs: this.options.unreachableAfterMs });
      this.setStatus({ state: LinkState.DOWN, since: Date.now(), lastError });
    }, this.options.unreachableAfterMs);
    this.unreachableTimer.unref();
  }

  private setStatus(s: LinkStatus): void {
    this.status = s;
    this.handler.stateChanged(this);
  }

  /**
   * The peer restarted: whatever it had not put into a slot is gone with it. Every SEND not
   * known to be consumed is failed back to its sender; the proxy fails the requests waiting
   * for an answer from the peer. Nothing is dropped silently.
   */
  private peerRestarted(incarnation: string): void {
    this.counters.peerRestarts++;
    const error = new SlotlinkError(ErrorCode.PEER_RESTARTED, `proxy "${this.peer}" restarted before this message was known to be in its receiver's slot; it may not have been delivered`);
    let failed = 0;
    for (const c of this.sendCredits.reset()) {
      const dst = `${latin1(c.key)}@${this.peer}`;
      for (const u of c.unconfirmedSends()) {
        this.handler.failBack(u.from, dst, u.sends, error);
        failed += u.sends;
      }
      for (const w of c.waiting) {
        if (w.kind !== RecordKind.SEND) continue;
        this.handler.failBack(w.from, dst, 1, error);
        failed++;
      }
      c.waiting.length = 0;
      c.blocked.open();
    }
    this.resend.clear();
    this.sendSeq = 0;
    this.handler.peerRestarted(this, error);
    this.log.warn('peer restarted: new session', { incarnation, sendsFailedBack: failed });
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

function countFrames(buf: Buffer): number {
  let n = 0;
  for (let at = 0; at + 4 <= buf.length; at += 4 + buf.readUInt32LE(at)) n++;
  return n;
}
