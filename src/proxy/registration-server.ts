/**
 * The registration socket: a Unix socket, owner-only unless a group is configured.
 * Each process connects, sends hello, gets its slot's descriptors, and keeps the
 * connection open for its whole life: when it closes, for any reason, the slot goes.
 */
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { NotPermittedError, RegistrationError, SlotlinkError, SocketInUseError, SyscallError } from '../errors.js';
import type { Logger } from '../log.js';
import { native } from '../native/binding.js';
import { ControlOp, HELLO_TIMEOUT_MS, type ControlFrame, type ProcessHello, type Subscribe, type Unsubscribe } from '../contract/registration.js';
import { RegistrationConnection, type Credentials } from './registration-connection.js';
import { checkSocketDirectory } from './socket-directory.js';

/** What the server hands its owner; `T` is the owner's record of a registered process. */
export interface RegistrationHandler<T> {
  onHello(conn: RegistrationConnection<T>, hello: ProcessHello): void;
  onStatus(conn: RegistrationConnection<T>): void;
  /** The process committed everything it accepted and sends no more. */
  onFlushed(conn: RegistrationConnection<T>): void;
  /** A registered process subscribes or unsubscribes (docs/slot-layout.md §8). */
  onSubscribe(conn: RegistrationConnection<T>, frame: Subscribe): void;
  onUnsubscribe(conn: RegistrationConnection<T>, frame: Unsubscribe): void;
  onClose(conn: RegistrationConnection<T>): void;
}

export interface RegistrationServerOptions {
  path: string;
  /** Numeric gid allowed besides the proxy's own user; the socket becomes 0660. */
  gid?: number;
  logger: Logger;
  /** A connection that says nothing for this long is dropped. Default HELLO_TIMEOUT_MS. */
  helloTimeoutMs?: number;
}

/** Plain counters; copied into stats snapshots. */
export interface RegistrationCounters {
  /** Connections refused: not permitted, malformed frames, or a hello the proxy refused. */
  refused: number;
  /** Connections dropped because they sent neither hello nor status in time. */
  timedOut: number;
}

export class RegistrationServer<T> {
  readonly counters: RegistrationCounters = { refused: 0, timedOut: 0 };
  private server: net.Server | null = null;
  private readonly connections = new Set<RegistrationConnection<T>>();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly log: Logger;

  constructor(private readonly options: RegistrationServerOptions, private readonly handler: RegistrationHandler<T>) {
    this.log = options.logger;
  }

  /** Answers `conn` with a refusal, counts and logs it, and closes the connection. */
  refuse(conn: RegistrationConnection<T>, error: SlotlinkError, fields: Record<string, unknown> = {}): void {
    if (conn.isEnded) return;
    this.counters.refused++;
    this.log.warn('registration refused', { clientPid: conn.credentials.pid, uid: conn.credentials.uid, ...fields, code: error.code, reason: error.message });
    conn.end({ op: ControlOp.REFUSED, ...error.toJSON() });
  }

  /** Binds the socket; cleans up a stale file left by a dead proxy; refuses a live one's. */
  async listen(): Promise<void> {
    const { path } = this.options;
    checkSocketDirectory(dirname(path), this.uid);
    try {
      await this.bind();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new SyscallError(`listening on ${path}`, err);
      if (await isLive(path)) throw new SocketInUseError(path);
      if (!lstatSync(path).isSocket()) throw new RegistrationError(`${path} exists and is not a socket: remove it or choose another --socket path`);
      unlinkSync(path);
      await this.bind();
    }
    const mode = this.options.gid === undefined ? 0o600 : 0o660;
    if (this.options.gid !== undefined) chownSync(path, this.uid, this.options.gid);
    chmodSync(path, mode);
  }

  private bind(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
      server.once('error', reject);
      // The umask keeps the socket private between bind() and chmod().
      const old = process.umask(0o177);
      try {
        server.listen(this.options.path, () => {
          server.off('error', reject);
          this.server = server;
          resolve();
        });
      } finally {
        process.umask(old);
      }
    });
  }

  /**
   * Stops accepting and removes the socket file. Registered processes' connections stay
   * open (the proxy ends them as it closes their slots); unregistered ones are dropped.
   */
  close(): void {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.close();
    for (const conn of this.connections) if (conn.registered === null) conn.socket.destroy();
    try {
      unlinkSync(this.options.path);
    } catch {
      // already gone
    }
  }

  private accept(socket: net.Socket): void {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    let credentials: Credentials;
    try {
      credentials = native.peerCred(fd);
    } catch {
      socket.destroy();
      return;
    }
    const conn = new RegistrationConnection<T>(socket, fd, credentials);
    socket.on('error', () => {}); // a process that vanished; 'close' follows
    if (!this.permitted(credentials, fd)) {
      this.refuse(conn, new NotPermittedError(`uid ${credentials.uid} may not register with this proxy (owner uid ${this.uid}${this.options.gid !== undefined ? `, group ${this.options.gid}` : ''})`));
      return;
    }
    this.connections.add(conn);
    // Nothing may sit on a registration connection without saying who it is.
    const timeoutMs = this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (conn.registered !== null || conn.isEnded) return;
      this.counters.timedOut++;
      this.refuse(conn, new RegistrationError(`no hello within ${timeoutMs} ms`));
      socket.destroySoon();
    }, timeoutMs);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      // Whatever a handler throws ends this one connection; the proxy and every other slot go on.
      try {
        for (const frame of conn.decode(chunk)) {
          if (conn.isEnded) return;
          this.dispatch(conn, frame);
        }
      } catch (err) {
        this.failed(conn, err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.connections.delete(conn);
      try {
        this.handler.onClose(conn);
      } catch (err) {
        this.log.error('closing a registration failed', { clientPid: conn.credentials.pid, err });
      }
    });
    socket.resume();
  }

  private dispatch(conn: RegistrationConnection<T>, frame: ControlFrame): void {
    if (frame.op === ControlOp.HELLO && conn.registered === null) this.handler.onHello(conn, frame);
    else if (frame.op === ControlOp.STATUS && conn.registered === null) this.handler.onStatus(conn);
    else if (frame.op === ControlOp.FLUSHED && conn.registered !== null) this.handler.onFlushed(conn);
    else if (frame.op === ControlOp.SUBSCRIBE && conn.registered !== null) this.handler.onSubscribe(conn, frame);
    else if (frame.op === ControlOp.UNSUBSCRIBE && conn.registered !== null) this.handler.onUnsubscribe(conn, frame);
    else this.refuse(conn, new RegistrationError(`unexpected control frame "${frame.op}"${conn.registered === null ? ' before hello' : ' after the welcome'}`));
  }

  /** A malformed frame or a handler's exception: refuse this connection, say why, go on. */
  private failed(conn: RegistrationConnection<T>, err: unknown): void {
    const error = err instanceof SlotlinkError ? err : new RegistrationError(`the proxy could not handle this connection: ${(err as Error)?.message ?? String(err)}`, err);
    if (!(err instanceof SlotlinkError)) this.log.error('registration handler failed', { clientPid: conn.credentials.pid, err });
    if (conn.registered === null) this.refuse(conn, error);
    else conn.socket.destroy(); // a registered process: its slot is reclaimed on close
  }

  /** The proxy's own user, root, or (with a group configured) a member by primary or supplementary group. */
  private permitted(c: Credentials, fd: number): boolean {
    if (c.uid === this.uid || c.uid === 0) return true;
    const gid = this.options.gid;
    if (gid === undefined) return false;
    if (c.gid === gid) return true;
    try {
      return native.peerGroups(fd).includes(gid);
    } catch {
      return false; // a kernel without SO_PEERGROUPS: primary group only
    }
  }
}

/** Whether a proxy answers on `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
