/**
 * A peer proxy played by the test over a real plaintext TCP connection: it says HELLO, then
 * sends whatever frames the test wants (well-formed or not) and records what the proxy sends
 * back. For tests of how a proxy treats a peer that misbehaves; never a stand-in for a proxy
 * in a test of what proxies do together.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { creditCost } from '../../src/link/credit.js';
import { LINK_PROTOCOL_VERSION, LinkOp, dataHeaderBytes, encodeAck, encodeJson, encodePing, writeDataHeader, writeDataMessage, DATA_MESSAGE_HEADER, type LinkHello } from '../../src/link/frame.js';
import { FrameDecoder } from '../../src/link/frame-decoder.js';
import type { RecordKind } from '../../src/slot/record.js';

export interface Received {
  kind: number;
  requestId: number;
  src: string;
  dst: string;
  payload: Buffer;
}

export class FakePeer {
  readonly received: Received[] = [];
  readonly grants = new Map<string, number>();
  readonly errors: Array<{ code?: string; message?: string }> = [];
  acked = 0;
  /** This peer's incarnation, as its HELLO said. */
  incarnation = '';
  /** Highest DATA sequence number received from the proxy. */
  lastSeq = 0;
  /** Acknowledge every DATA frame as it arrives (else only when ackAll() is called). */
  autoAck = false;
  closed: Promise<void>;
  peerHello: LinkHello | null = null;
  private seq = 0;
  private readonly offsets = new Map<string, number>();
  private readonly socket: net.Socket;
  private readonly waiters: Array<() => void> = [];

  private constructor(port: number, readonly node: string) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    const decoder = new FrameDecoder(1 << 26, {
      data: (f) => {
        this.lastSeq = Math.max(this.lastSeq, f.seq);
        while (f.next()) {
          this.received.push({
            kind: f.kind,
            requestId: f.requestId,
            src: f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes),
            dst: f.buffer.latin1Slice(f.addressStart, f.addressStart + f.addressBytes),
            payload: Buffer.from(f.buffer.subarray(f.payloadStart, f.payloadStart + f.payloadBytes)),
          });
        }
      },
      ack: (s) => void (this.acked = s),
      credit: (k, l) => void this.grants.set(k.toString('latin1'), l),
      wanted: () => {},
      json: (op, body) => {
        if (op === LinkOp.HELLO) this.peerHello = body as LinkHello;
        if (op === LinkOp.ERROR) this.errors.push(body as { code?: string; message?: string });
      },
      // Answered, so the proxy does not drop a peer that only listens.
      ping: (op, time) => void (op === LinkOp.PING && this.write(encodePing(LinkOp.PONG, time))),
    });
    this.socket.on('data', (chunk: Buffer) => {
      const seq = this.lastSeq;
      decoder.push(chunk);
      if (this.autoAck && this.lastSeq > seq) this.ackAll();
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects to a plaintext link port as node `node` and completes the handshake. */
  static async connect(port: number, node: string, hello: Partial<LinkHello> = {}): Promise<FakePeer> {
    const p = new FakePeer(port, node);
    await new Promise<void>((resolve, reject) => {
      p.socket.once('connect', resolve);
      p.socket.once('error', reject);
    });
    const mine: LinkHello = {
      version: LINK_PROTOCOL_VERSION,
      node,
      incarnation: randomBytes(8).toString('hex'),
      peerIncarnation: null,
      delivered: 0,
      creditWindow: 1 << 20,
      maxUnackedBytes: 1 << 26,
      maxMessageBytes: 1 << 24,
      ...hello,
    };
    p.incarnation = mine.incarnation;
    p.write(encodeJson(LinkOp.HELLO, mine));
    await p.until(() => p.peerHello !== null);
    return p;
  }

  /** Resolves once `done()` holds after some frame arrived (or now), or rejects when the connection closes first. */
  async until(done: () => boolean): Promise<void> {
    let open = true;
    void this.closed.then(() => (open = false));
    while (!done()) {
      if (!open) throw new Error('the proxy closed the connection');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        void this.closed.then(r);
      });
    }
  }

  /**
   * A DATA frame from `src` (an address on this node) to `dst`, carrying `messages`; the
   * frame's sequence number and credit offset are kept right unless given.
   */
  data(src: string, dst: string, messages: Array<{ kind: RecordKind; requestId?: number; payload?: Uint8Array }>, override: { seq?: number; offset?: number } = {}): void {
    const s = Buffer.from(src, 'latin1');
    const d = Buffer.from(dst, 'latin1');
    const size = dataHeaderBytes(s.length, d.length) + messages.reduce((n, m) => n + DATA_MESSAGE_HEADER + (m.payload?.length ?? 0), 0);
    const out = Buffer.alloc(size);
    const offset = override.offset ?? this.offsets.get(dst) ?? 0;
    let at = writeDataHeader(out, 0, override.seq ?? ++this.seq, offset, s, d);
    let units = 0;
    for (const m of messages) {
      const payload = m.payload ?? new Uint8Array(0);
      at += writeDataMessage(out, 0, at, m.kind, m.requestId ?? 0, payload, 0, payload.length);
      units += creditCost(payload.length);
    }
    this.offsets.set(dst, offset + units);
    this.write(out);
  }

  /** Says to the proxy that every DATA frame received so far is taken (an ACK). */
  ackAll(): void {
    this.write(encodeAck(this.lastSeq));
  }

  /** Announces names as registered on this peer (a DIRECTORY frame for its session). */
  announce(names: string[], version = 1): void {
    this.write(encodeJson(LinkOp.DIRECTORY, { incarnation: this.incarnation, version, names: names.map((name) => ({ name, group: false, members: 1 })), subjects: [] }));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Stops reading: the proxy's writes to us pile up in its socket. */
  pause(): void {
    this.socket.pause();
  }

  close(): void {
    this.socket.destroy();
  }
}
