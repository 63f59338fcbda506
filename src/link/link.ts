/**
 * A link: this proxy's session with one peer proxy. It outlives connections: sequence
 * numbers, the resend buffer, what was delivered and the credits all carry over a
 * reconnect, so a dropped connection loses nothing and duplicates nothing as long as both
 * proxies keep running. A peer that restarted (new incarnation) starts a new session, and
 * what it may not have delivered is failed back to the senders, never dropped silently.
 */
import { ErrorCode, SlotlinkError } from '../errors.js';
import type { Logger } from '../log.js';
import { LocalSlot } from '../proxy/local-slot.js';
import { AddressCache } from '../slot/address-cache.js';
import type { RecordKind } from '../slot/record.js';
import type { Connection, ConnectionOwner } from './connection.js';
import { InCredit, OutCredit } from './credit.js';
import { LINK_PROTOCOL_VERSION, LinkOp, encodeAck, encodeCredit, encodeJson, encodePing, peekData, type DataFrame, type DirectoryFrame, type Hello } from './frame.js';
import { ResendBuffer } from './resend-buffer.js';

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
  maxUnackedBytes: number;
  maxMessageBytes: number;
  /** A link not up for this long is "down": sends to it fail at once. */
  unreachableAfterMs: number;
  logger: Logger;
}

/** What a link needs from its proxy. */
export interface LinkHandler {
  /** Deliver a DATA frame to a local process; call link.consumed(credit, bytes) once it is in a slot. */
  deliver(link: Link, frame: DataFrame, credit: InCredit): void;
  directory(link: Link, snapshot: DirectoryFrame): void;
  /** The link will not deliver this message (peer restarted): tell its sender. */
  failBack(kind: number, requestId: number, src: string, dst: string, error: SlotlinkError): void;
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
}

export class Link implements ConnectionOwner {
  status: LinkStatus = { state: LinkState.CONNECTING, since: Date.now() };
  conn: Connection | null = null;
  peerIncarnation: string | null = null;
  /** Last directory snapshot from the peer (null until one arrives). */
  peerDirectory: DirectoryFrame | null = null;
  rttMs: number | null = null;
  readonly counters: LinkCounters = { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0, retransmittedFrames: 0, duplicatesDropped: 0, reconnects: 0, creditStalls: 0, peerRestarts: 0 };
  private sendSeq = 0;
  private delivered = 0;
  private ackedUpTo = 0;
  private readonly resend = new ResendBuffer();
  private readonly outCredits = new Map<string, OutCredit>();
  private readonly inCredits = new AddressCache<InCredit>(1 << 16);
  private readonly inCreditList: InCredit[] = [];
  private flushScheduled = false;
  private creditsDue = new Set<InCredit>();
  /** The DATA frame being delivered: a duplicate to skip, or its destination's credit. */
  private skippingFrame = false;
  private frameCredit: InCredit | null = null;
  private unreachableTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(readonly options: LinkOptions, private readonly handler: LinkHandler) {
    this.log = options.logger.child({ peer: options.peerNode });
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

  get unackedBytes(): number {
    return this.resend.bytes;
  }

  /** Payload bytes held here waiting for credit. */
  get waitingBytes(): number {
    let n = 0;
    for (const c of this.outCredits.values()) for (const w of c.waiting) n += w.end - w.start;
    return n;
  }

  // ---- sending ----

  /** The credit ledger for a destination key (the address without "@node"). */
  creditFor(key: string): OutCredit {
    let c = this.outCredits.get(key);
    if (!c) {
      c = new OutCredit(Buffer.from(key), this.options.creditWindow);
      this.outCredits.set(key, c);
    }
    return c;
  }

  /**
   * Sends `payload[start, end)` to destination `credit.key` on the peer, or holds it until
   * there is credit, pausing `src` (the local slot it came from) meanwhile.
   */
  send(credit: OutCredit, from: Uint8Array, src: LocalSlot | null, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number): void {
    const bytes = end - start;
    if (credit.waiting.length === 0 && credit.allows(bytes) && this.resend.bytes < this.options.maxUnackedBytes) {
      this.write(credit, from, kind, requestId, payload, start, end);
      return;
    }
    credit.waiting.push({ from, src, kind, requestId, payload, start, end });
    if (src?.holdFor(credit.blocked)) this.counters.creditStalls++;
  }

  private write(credit: OutCredit, from: Uint8Array, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number): void {
    credit.sent += end - start;
    this.counters.bytesOut += end - start;
    if (this.resend.append(from, credit.key, kind, requestId, payload, start, end, this.sendSeq + 1)) this.sendSeq++;
    this.counters.framesOut++;
    this.scheduleFlush();
  }

  /** Sends what waits for credit, as far as credit allows; resumes its senders when done. */
  private drainWaiting(credit: OutCredit): void {
    while (credit.waiting.length > 0) {
      const w = credit.waiting[0]!;
      if (!credit.allows(w.end - w.start) || this.resend.bytes >= this.options.maxUnackedBytes) return;
      credit.waiting.shift();
      this.write(credit, w.from, w.kind, w.requestId, w.payload, w.start, w.end);
    }
    LocalSlot.release(credit.blocked);
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
    // While the link is down, frames stay in the buffer; adopt() resends them.
    if (!this.isUp) return;
    const conn = this.conn!;
    conn.cork();
    for (const bytes of this.resend.take()) conn.write(bytes);
    if (this.delivered > this.ackedUpTo) {
      this.ackedUpTo = this.delivered;
      conn.write(encodeAck(this.delivered));
    }
    for (const c of this.creditsDue) {
      const limit = c.due();
      if (limit < 0) continue;
      c.granted = limit;
      conn.write(encodeCredit(c.key, limit));
    }
    this.creditsDue.clear();
    conn.uncork();
  }

  // ---- receiving (ConnectionOwner) ----

  data(f: DataFrame): void {
    if (f.index === 0) {
      // A frame is a run of messages with one seq: decide for the whole frame at its first.
      this.skippingFrame = f.seq <= this.delivered;
      if (!this.skippingFrame) {
        if (f.seq !== this.delivered + 1) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `DATA frame: sequence ${f.seq} skips ahead of ${this.delivered + 1}`);
        this.delivered = f.seq;
        this.frameCredit = this.inCreditFor(f);
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

  private inCreditFor(f: DataFrame): InCredit {
    let credit = this.inCredits.get(f.buffer, f.addressStart, f.addressBytes);
    if (!credit) {
      credit = new InCredit(Buffer.from(f.buffer.subarray(f.addressStart, f.addressStart + f.addressBytes)), this.options.creditWindow);
      this.inCredits.set(f.buffer, f.addressStart, f.addressBytes, credit);
      this.inCreditList.push(credit);
    }
    return credit;
  }

  /** The local proxy has put `bytes` for this destination into a slot: grant more. */
  consumed(credit: InCredit, bytes: number): void {
    credit.consumed += bytes;
    if (credit.due() < 0) return;
    this.creditsDue.add(credit);
    this.scheduleFlush();
  }

  ack(seq: number): void {
    if (seq > this.sendSeq) throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `ACK frame: sequence ${seq} was never sent (last sent ${this.sendSeq})`);
    const wasFull = this.resend.bytes >= this.options.maxUnackedBytes;
    this.resend.ack(seq);
    if (wasFull) for (const c of this.outCredits.values()) this.drainWaiting(c);
  }

  credit(key: Buffer, limit: number): void {
    const c = this.creditFor(key.toString('latin1'));
    if (limit <= c.limit) return;
    c.limit = limit;
    this.drainWaiting(c);
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
    if (op === LinkOp.PING) this.conn?.write(encodePing(LinkOp.PONG, time));
    else this.rttMs = Number(process.hrtime.bigint()) / 1e6 - time;
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
  hello(): Hello {
    return {
      version: LINK_PROTOCOL_VERSION,
      node: this.options.localNode,
      incarnation: this.options.incarnation,
      peerIncarnation: this.peerIncarnation,
      delivered: this.delivered,
      creditWindow: this.options.creditWindow,
      maxMessageBytes: this.options.maxMessageBytes,
    };
  }

  /** Makes `conn` (handshake done, peer's HELLO in hand) this link's connection and resumes. */
  adopt(conn: Connection, peer: Hello): void {
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
      for (const c of this.inCreditList) (c.consumed = 0), (c.granted = c.window);
    }
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
    // Grants are absolute, so sending every current one again is harmless, and it covers
    // any that came due while the link was down.
    for (const c of this.inCreditList) {
      c.granted = Math.max(c.granted, c.consumed + c.window);
      if (c.granted > c.window) conn.write(encodeCredit(c.key, c.granted));
    }
    this.announce(this.handler.localDirectory());
    for (const c of this.outCredits.values()) this.drainWaiting(c);
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

  /** The peer restarted: what it had not delivered will not be; tell every sender. */
  private peerRestarted(incarnation: string): void {
    this.counters.peerRestarts++;
    const error = new SlotlinkError(ErrorCode.PEER_RESTARTED, `proxy "${this.peer}" restarted before delivering this message; it was not delivered`);
    let failed = 0;
    for (const [buf, at] of this.resend.all()) {
      for (const m of peekData(buf, at)) {
        this.handler.failBack(m.kind, m.requestId, m.src, `${m.dst}@${this.peer}`, error);
        failed++;
      }
    }
    for (const c of this.outCredits.values()) {
      for (const w of c.waiting) this.handler.failBack(w.kind, w.requestId, latin1(w.from), `${latin1(c.key)}@${this.peer}`, error);
      failed += c.waiting.length;
      c.waiting.length = 0;
      c.reset();
      LocalSlot.release(c.blocked);
    }
    this.resend.clear();
    this.sendSeq = 0;
    this.log.warn('peer restarted: new session', { incarnation, failedBack: failed });
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
