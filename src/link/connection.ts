/**
 * One authenticated socket to a peer proxy, speaking frames. A link owns at most one live
 * connection at a time; before the handshake, frames go to whoever accepted or dialed it.
 */
import type net from 'node:net';
import { ErrorCode, SlotlinkError } from '../errors.js';
import { LinkOp, encodeJson } from './frame.js';
import { FrameDecoder, type FrameHandler } from './frame-decoder.js';
import type { PeerIdentity } from './transport.js';

export interface ConnectionOwner extends FrameHandler {
  /** The socket ended; `error` says why when it was not a clean close. */
  closed(conn: Connection, error: SlotlinkError | null): void;
  /** Every frame of one chunk read from the socket has been handled. */
  chunkTaken?(): void;
}

export class Connection {
  lastHeard = Date.now();
  private ended = false;
  private readonly decoder: FrameDecoder;

  constructor(
    readonly socket: net.Socket,
    /** True when this proxy dialed it. */
    readonly outbound: boolean,
    readonly who: PeerIdentity,
    maxFrameBytes: number,
    public owner: ConnectionOwner,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.decoder = new FrameDecoder(maxFrameBytes, {
      data: (f) => this.owner.data(f),
      ack: (s) => this.owner.ack(s),
      credit: (k, l) => this.owner.credit(k, l),
      wanted: (k, s) => this.owner.wanted(k, s),
      json: (op, body) => this.owner.json(op, body),
      ping: (op, t) => this.owner.ping(op, t),
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      try {
        this.decoder.push(chunk);
        this.owner.chunkTaken?.();
      } catch (err) {
        this.fail(err instanceof SlotlinkError ? err : new SlotlinkError(ErrorCode.LINK_PROTOCOL, String(err), { cause: err }));
      }
    });
    socket.on('error', (err) => this.finish(new SlotlinkError(ErrorCode.LINK_PROTOCOL, `connection to ${this.remote} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.finish(null));
  }

  readonly remote: string;

  get isOpen(): boolean {
    return !this.ended;
  }

  write(buf: Buffer): void {
    if (this.ended) return;
    this.socket.write(buf);
  }

  /** Holds writes until uncork(), so several frames leave in one system call. */
  cork(): void {
    if (!this.ended) this.socket.cork();
  }

  uncork(): void {
    if (!this.ended) this.socket.uncork();
  }

  /** Tells the peer why, then closes. */
  fail(error: SlotlinkError): void {
    if (this.ended) return;
    this.write(encodeJson(LinkOp.ERROR, error.toJSON()));
    this.socket.end();
    this.finish(error);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** A graceful goodbye. */
  close(): void {
    if (this.ended) return;
    this.write(encodeJson(LinkOp.CLOSE, {}));
    this.socket.end();
    this.finish(null);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Drops the socket without a word (a dead peer). */
  destroy(error: SlotlinkError): void {
    this.socket.destroy();
    this.finish(error);
  }

  private finish(error: SlotlinkError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.owner.closed(this, error);
  }
}
