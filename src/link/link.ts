/**
 * A link: this proxy's side of its pairing with one peer proxy, over whichever connection is
 * current. It composes a session (sequence numbers, resend, restarts), the credit ledgers
 * for both directions, and liveness; a dropped connection loses nothing and duplicates
 * nothing while both proxies run, and a peer that restarted has what it may not have
 * delivered failed back to the senders, never dropped silently. (Over 250 lines: sending,
 * receiving and reconnecting each touch the session and both ledgers; its options, states
 * and counters are in link-state.ts.)
 */
import { ErrorCode, SlotlinkError } from '../errors.js';
import type { Logger } from '../log.js';
import { RecordKind, isAwaited } from '../slot/record.js';
import type { Pausable } from '../util/gate.js';
import type { Connection, ConnectionOwner } from './connection.js';
import { CREDIT_PER_MESSAGE, type Waiting } from './credit.js';
import { DATA_MESSAGE_HEADER, LINK_PROTOCOL_VERSION, LinkOp, encodeCredit, encodeJson, type DirectoryFrame, type LinkHello } from './frame.js';
import type { DataFrame } from './frame-decoder.js';
import { LinkState, type LinkCounters, type LinkOptions, type LinkStatus } from './link-state.js';
import { Liveness, type LivenessOwner } from './liveness.js';
import { PipeWindow } from './pipe-window.js';
import { ReceiveCredits, type InCredit } from './receive-credit.js';
import { SendCredits, type OutCredit } from './send-credit.js';
import { Session } from './session.js';
import { QUANTUM_BYTES, StreamScheduler, Verdict, type StreamWriter } from './stream-scheduler.js';

export * from './link-state.js';

/**
 * What a stream holds while its link is up before its source pauses: the rest waits in the
 * source's slot, not as one object per message here (with a credit window per stream:
 * `node dist/bench/stream.js --across --pairs 2 --size 64 --plaintext`, 0.79 M msg/s against
 * 0.96 M at 64 KiB, medians of three alternated runs).
 */
const STREAM_BYTES_UP = 64 * 1024;

/** Where a link hands each DATA frame that arrives: a run of messages, and the credit each consumes as it leaves. */
export interface DeliverySink {
  receive(link: Link, run: DataFrame, credit: InCredit): void;
}

/** What becomes of a link's session that the proxy must act on. */
export interface SessionListener {
  /** `count` SENDs from `from` to `dst` may not have been delivered (the peer restarted): tell their sender. */
  failBack(from: Uint8Array, dst: string, count: number, error: SlotlinkError): void;
  /** The peer restarted, or the link closed: everything waiting for an answer over it will not get one. */
  answersLost(link: Link, error: SlotlinkError): void;
}

/** The names a link announces to its peer, and what it hears of the peer's. */
export interface DirectoryExchange {
  localSnapshot(): DirectoryFrame;
  peerSnapshot(link: Link, snapshot: DirectoryFrame): void;
  /** The peer is no longer a peer: its names are gone. */
  peerGone(link: Link): void;
}

/** Who learns of a link's state changes (the Peers that made it). */
export interface LinkStateListener {
  linkStateChanged(link: Link): void;
}

export interface LinkParts {
  sink: DeliverySink;
  session: SessionListener;
  directory: DirectoryExchange;
  state: LinkStateListener;
}


export class Link implements ConnectionOwner, LivenessOwner, StreamWriter {
  status: LinkStatus = { state: LinkState.CONNECTING, since: Date.now() };
  conn: Connection | null = null;
  /** Last directory snapshot from the peer (null until one arrives). */
  peerDirectory: DirectoryFrame | null = null;
  readonly counters: LinkCounters = { messagesOut: 0, messagesIn: 0, bytesOut: 0, bytesIn: 0, retransmittedFrames: 0, duplicatesDropped: 0, reconnects: 0, creditStalls: 0, messagesExpressed: 0, peerRestarts: 0 };
  private readonly session: Session;
  private readonly sendCredits: SendCredits;
  private readonly receiveCredits: ReceiveCredits;
  private readonly liveness: Liveness;
  /** What waits to leave, and which goes next. */
  private readonly scheduler: StreamScheduler;
  /** How much may be written and not yet acknowledged. */
  private readonly pipe: PipeWindow;
  private flushScheduled = false;
  private flushing = false;
  private readonly log: Logger;

  constructor(readonly options: LinkOptions, private readonly parts: LinkParts) {
    this.log = options.logger.child({ peer: options.peerNode });
    this.session = new Session(options.incarnation);
    this.sendCredits = new SendCredits(options.maxUnackedBytes);
    this.receiveCredits = new ReceiveCredits(options.creditWindow, options.maxUnackedBytes, () => this.scheduleFlush());
    this.liveness = new Liveness(this, options.unreachableAfterMs);
    this.pipe = new PipeWindow(options.maxUnackedBytes);
    this.scheduler = new StreamScheduler(options.creditWindow, this.counters);
    this.liveness.away();
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

  get rttMs(): number | null {
    return this.liveness.rttMs;
  }

  get pongsSkipped(): number {
    return this.liveness.pongsSkipped;
  }

  get framesInFlight(): number {
    return this.session.framesInFlight;
  }

  /** Bytes of DATA frames sent and not yet acknowledged as received. */
  get unackedBytes(): number {
    return this.session.unackedBytes;
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

  /** Messages, and their payload bytes, waiting in this link's streams (for their turn, room on the link, or credit). */
  get waitingMessages(): number {
    return this.scheduler.queuedMessages;
  }

  get waitingBytes(): number {
    return this.scheduler.queuedBytes;
  }

  /** Bytes the link lets be written and not yet acknowledged now (pipe-window.ts). */
  get pipeBytes(): number {
    return this.pipe.limit;
  }

  // ---- sending ----

  /** The credit ledger for a destination key (the address without "@node"). */
  creditFor(key: string): OutCredit {
    return this.sendCredits.ledger(key);
  }

  /**
   * Sends `payload[start, end)` to destination `credit.key` on the peer: at once when nothing
   * waits and the link has room and credit, else into its stream (source to destination),
   * from which the scheduler lets it leave in turn; `src` (where it came from) is paused
   * while that stream is full. `onSent` runs once it is written to the link.
   */
  send(credit: OutCredit, from: Uint8Array, src: Pausable | null, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number, onSent: (() => void) | null = null): void {
    const c = this.sendCredits.current(credit);
    const bytes = end - start;
    if (this.scheduler.idle && this.hasRoom(bytes) && this.sendCredits.allows(c, bytes)) {
      this.writeMessage(c, from, kind, requestId, payload, start, end);
      onSent?.();
      return;
    }
    if (isAwaited(kind) && this.mayExpress(c, from, bytes) && this.sendCredits.allows(c, bytes)) {
      this.counters.messagesExpressed++;
      this.writeMessage(c, from, kind, requestId, payload, start, end);
      onSent?.();
      // Unless this runs inside a flush (an onSent), which writes it as it ends.
      if (!this.flushing) this.flush();
      return;
    }
    this.scheduler.enqueue(c, { from, src, kind, requestId, payload, start, end, onSent }, src);
    this.scheduleFlush();
  }

  /**
   * A request or answer (isAwaited) from a stream with nothing waiting does not queue behind
   * other streams' bulk: if it fits one quantum it leaves now rather than at the end of the
   * turn, and may pass the pipe window by one quantum (PipeWindow.allowsExpress), which sends
   * and publications never use. Its stream's order holds: nothing of it waits. Like the
   * sparse flows of fair queueing (RFC 8290 §4.1), kept to the kinds somebody waits on so that
   * a bulk stream starting up cannot take the allowance.
   */
  private mayExpress(credit: OutCredit, from: Uint8Array, bytes: number): boolean {
    return this.isUp && bytes + DATA_MESSAGE_HEADER <= QUANTUM_BYTES && !this.scheduler.holds(credit, from) && this.pipe.allowsExpress(this.session.unackedBytes, bytes);
  }

  // ---- the scheduler's view (StreamWriter) ----

  check(credit: OutCredit, m: Waiting): Verdict {
    if (!this.hasRoom(m.end - m.start)) return Verdict.NO_ROOM;
    return this.sendCredits.allows(credit, m.end - m.start) ? Verdict.GO : Verdict.NO_CREDIT;
  }

  write(credit: OutCredit, m: Waiting): void {
    this.writeMessage(credit, m.from, m.kind, m.requestId, m.payload, m.start, m.end);
  }

  /** The link is up and what is written and not yet acknowledged leaves room for `payloadBytes` more. */
  private hasRoom(payloadBytes: number): boolean {
    return this.isUp && this.pipe.allows(this.session.unackedBytes, payloadBytes);
  }

  private writeMessage(credit: OutCredit, from: Uint8Array, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number): void {
    const offset = credit.sent;
    this.sendCredits.wrote(credit, end - start, from, kind);
    this.counters.bytesOut += end - start;
    this.counters.messagesOut++;
    this.pipe.message(end - start);
    this.session.append(from, credit.key, kind, requestId, payload, start, end, offset);
    this.scheduleFlush();
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
    // While the link is down, frames stay in the session and grants stay due; adopt() resends them.
    if (!this.isUp) return;
    this.flushing = true;
    try {
      this.scheduler.run(this);
    } finally {
      this.flushing = false;
    }
    const conn = this.conn!;
    conn.cork();
    for (const bytes of this.session.outgoing()) conn.write(bytes);
    this.pipe.wrote(this.session.lastSeq, performance.now());
    for (const [key, limit] of this.receiveCredits.takeGrants()) conn.write(encodeCredit(Buffer.from(key, 'latin1'), limit));
    conn.uncork();
  }

  // ---- receiving (ConnectionOwner) ----

  data(run: DataFrame): void {
    if (!this.session.receive(run.seq)) return void (this.counters.duplicatesDropped += run.messages);
    // Checked before the frame counts as received: a peer over its credit loses the connection, not a frame.
    const key = run.buffer.latin1Slice(run.addressStart, run.addressStart + run.addressBytes);
    const credit = this.receiveCredits.receive(key, run.offset, run.messages, run.framePayloadBytes + run.messages * CREDIT_PER_MESSAGE);
    this.session.received(run.seq);
    this.counters.messagesIn += run.messages;
    this.counters.bytesIn += run.framePayloadBytes;
    this.parts.sink.receive(this, run, credit);
    this.scheduleFlush();
  }

  /**
   * A chunk from the socket is handled: acknowledge its DATA frames now rather than at the
   * end of the turn, so the peer refills its pipe window while this proxy goes on with the
   * rest of its turn (the window then bounds what waits unread, not this proxy's turn).
   */
  chunkTaken(): void {
    if (!this.isUp) return;
    const ack = this.session.ackDue();
    if (ack) this.conn!.write(ack);
  }

  ack(seq: number): void {
    this.pipe.acked(seq, this.session.ack(seq), performance.now());
    if (!this.scheduler.idle) this.scheduleFlush();
  }

  credit(key: Buffer, limit: number): void {
    const c = this.sendCredits.grant(key.toString('latin1'), limit);
    if (c) this.scheduler.unpark(c);
    // Units confirmed on one destination may let others go that waited for the peer's limit.
    for (const w of this.sendCredits.takeWaitingForPeer()) this.scheduler.unpark(w);
    if (!this.scheduler.idle) this.scheduleFlush();
  }

  wanted(key: Buffer, sent: number): void {
    this.receiveCredits.wanted(key.toString('latin1'), sent);
  }

  json(op: number, body: unknown): void {
    switch (op) {
      case LinkOp.DIRECTORY: {
        const d = body as DirectoryFrame; // checked by the decoder
        if (d.incarnation !== this.session.peerIncarnation) return;
        if (this.peerDirectory && this.peerDirectory.incarnation === d.incarnation && d.version <= this.peerDirectory.version) return;
        this.peerDirectory = d;
        this.parts.directory.peerSnapshot(this, d);
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
    this.liveness.ping(this.conn, op, time);
  }

  // ---- liveness (LivenessOwner) ----

  /** Heartbeat tick: ping, and drop a connection that has gone silent. */
  heartbeat(deadAfterMs: number): void {
    if (this.conn && this.isUp) this.liveness.tick(this.conn, deadAfterMs);
  }

  silent(conn: Connection, forMs: number): void {
    this.log.warn('peer silent: dropping the connection', { silentMs: forMs });
    conn.destroy(new SlotlinkError(ErrorCode.LINK_PROTOCOL, `no frame from ${this.peer} for ${forMs} ms`));
  }

  unreachable(): void {
    if (this.isUp || this.status.state === LinkState.CLOSED) return;
    const lastError = 'lastError' in this.status ? this.status.lastError : null;
    this.log.warn('peer unreachable', { forMs: this.options.unreachableAfterMs });
    this.setStatus({ state: LinkState.DOWN, since: Date.now(), lastError });
  }

  // ---- connections ----

  /** This proxy's HELLO for a new connection to this peer. */
  hello(): LinkHello {
    return {
      version: LINK_PROTOCOL_VERSION,
      node: this.options.localNode,
      incarnation: this.options.incarnation,
      peerIncarnation: this.session.peerIncarnation,
      delivered: this.session.delivered,
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
    const { restarted, resend } = this.session.resume(peer.incarnation, peer.peerIncarnation, peer.delivered);
    if (restarted) this.peerRestarted(peer.incarnation);
    // Each side sends within what the other allows (a new session's ledgers take the peer's window).
    this.sendCredits.start(peer.creditWindow, peer.maxUnackedBytes, this.options.maxUnackedBytes);
    this.pipe.restart();
    let resentFrames = 0;
    for (const b of resend) {
      resentFrames += countFrames(b);
      conn.write(b);
    }
    this.counters.retransmittedFrames += resentFrames;
    if (this.status.state !== LinkState.CONNECTING) this.counters.reconnects++;
    this.liveness.back();
    this.setStatus({ state: LinkState.UP, since: Date.now(), remote: conn.remote, outbound: conn.outbound });
    const ack = this.session.ackNow();
    if (ack) conn.write(ack);
    // A grant written to the old connection may be lost: for every destination with units
    // not yet known to be consumed, ask for the current grant (after the resent frames, so
    // the peer has received everything the offset counts).
    for (const c of this.sendCredits.all()) if (c.outstanding) conn.write(encodeCredit(c.key, c.sent, LinkOp.WANTED));
    this.sendCredits.takeWaitingForPeer();
    this.scheduler.unparkAll();
    this.flush();
    this.announce(this.parts.directory.localSnapshot());
    this.log.info('link up', { remote: conn.remote, outbound: conn.outbound, resentFrames, delivered: this.session.delivered });
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
    this.liveness.away();
  }

  /** Graceful close at shutdown: flush what is written, say goodbye. */
  close(): void {
    if (this.isUp) for (const bytes of this.session.outgoing()) this.conn!.write(bytes);
    // What never left (the peer was removed by a reload, or a drain ran out of time) is
    // failed back, and requests waiting for an answer over this link fail now.
    const error = new SlotlinkError(ErrorCode.UNREACHABLE, `the link to "${this.peer}" closed (the peer was removed from this proxy's configuration, or the proxy stopped) before this message left`);
    for (const c of this.sendCredits.all()) this.failBackWaiting(c, error);
    this.parts.session.answersLost(this, error);
    this.setStatus({ state: LinkState.CLOSED, since: Date.now() });
    this.liveness.back();
    this.conn?.close();
    this.conn = null;
  }

  private setStatus(s: LinkStatus): void {
    this.status = s;
    this.scheduler.setStreamBytes(this.isUp ? Math.min(STREAM_BYTES_UP, this.options.creditWindow) : this.options.creditWindow);
    this.parts.state.linkStateChanged(this);
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
        this.parts.session.failBack(u.from, dst, u.sends, error);
        failed += u.sends;
      }
      failed += this.failBackWaiting(c, error);
    }
    this.peerDirectory = null;
    this.receiveCredits.reset();
    this.parts.session.answersLost(this, error);
    this.log.warn('peer restarted: new session', { incarnation, sendsFailedBack: failed });
  }

  /** Drops what waits to leave for `credit`'s destination; each SEND is failed back to its sender. Returns how many. */
  private failBackWaiting(credit: OutCredit, error: SlotlinkError): number {
    const dst = `${latin1(credit.key)}@${this.peer}`;
    let failed = 0;
    for (const w of this.scheduler.drop(credit)) {
      if (w.kind !== RecordKind.SEND) continue;
      this.parts.session.failBack(w.from, dst, 1, error);
      failed++;
    }
    return failed;
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
