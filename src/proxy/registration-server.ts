/**
 * The registration socket: a Unix socket, owner-only unless a group is configured.
 * Each process connects, sends hello, gets its slot's descriptors, and keeps the
 * connection open for its whole life: when it closes, for any reason, the slot goes.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { NotPermittedError, RegistrationError, SlotlinkError, SocketInUseError, SyscallError } from '../errors.js';
import { native } from '../native/binding.js';
import { ControlDecoder, ControlOp, encodeControl, type ControlFrame, type Hello } from './registration-protocol.js';
import type { Credentials } from './local-slot.js';

export interface RegistrationHandler {
  onHello(conn: RegistrationConnection, hello: Hello): void;
  onStatus(conn: RegistrationConnection): void;
  /** The process committed everything it accepted and sends no more. */
  onFlushed(conn: RegistrationConnection): void;
  onClose(conn: RegistrationConnection): void;
}

export interface RegistrationServerOptions {
  path: string;
  /** Numeric gid allowed besides the proxy's own user; the socket becomes 0660. */
  gid?: number;
}

/** One process's registration connection. */
export class RegistrationConnection {
  /** Set once the process has a slot. */
  slotRef: unknown = null;
  private readonly decoder = new ControlDecoder();
  private ended = false;

  constructor(readonly socket: net.Socket, readonly fd: number, readonly credentials: Credentials) {}

  /** Sends a frame with descriptors riding on it (SCM_RIGHTS). */
  sendWithFds(frame: ControlFrame, fds: number[]): void {
    const bytes = encodeControl(frame);
    let sent: number;
    try {
      sent = native.sendFds(this.fd, bytes, fds);
    } catch (err) {
      throw new SyscallError('passing the slot descriptors', err);
    }
    if (sent < bytes.length) this.socket.write(bytes.subarray(sent));
  }

  send(frame: ControlFrame): void {
    if (!this.ended) this.socket.write(encodeControl(frame));
  }

  /** Sends a last frame, then closes. */
  end(frame?: ControlFrame): void {
    if (this.ended) return;
    this.ended = true;
    if (frame) this.socket.end(encodeControl(frame));
    else this.socket.end();
  }

  /** @internal */
  decode(chunk: Buffer): ControlFrame[] {
    return this.decoder.push(chunk);
  }
}

export class RegistrationServer {
  private server: net.Server | null = null;
  private readonly connections = new Set<RegistrationConnection>();
  private readonly uid = process.getuid?.() ?? 0;

  constructor(private readonly options: RegistrationServerOptions, private readonly handler: RegistrationHandler) {}

  /** Binds the socket; cleans up a stale file left by a dead proxy; refuses a live one's. */
  async listen(): Promise<void> {
    const { path } = this.options;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
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
    for (const conn of this.connections) if (conn.slotRef === null) conn.socket.destroy();
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
    const conn = new RegistrationConnection(socket, fd, credentials);
    if (!this.permitted(credentials)) {
      const err = new NotPermittedError(`uid ${credentials.uid} may not register with this proxy (owner uid ${this.uid}${this.options.gid !== undefined ? `, group ${this.options.gid}` : ''})`);
      conn.end({ op: ControlOp.REFUSED, ...err.toJSON() });
      return;
    }
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => {
      let frames: ControlFrame[];
      try {
        frames = conn.decode(chunk);
      } catch (err) {
        conn.end({ op: ControlOp.REFUSED, ...(err as SlotlinkError).toJSON() });
        return;
      }
      for (const frame of frames) this.dispatch(conn, frame);
    });
    socket.on('error', () => {}); // a process that vanished; 'close' follows
    socket.on('close', () => {
      this.connections.delete(conn);
      this.handler.onClose(conn);
    });
    socket.resume();
  }

  private dispatch(conn: RegistrationConnection, frame: ControlFrame): void {
    if (frame.op === ControlOp.HELLO && conn.slotRef === null) this.handler.onHello(conn, frame);
    else if (frame.op === ControlOp.STATUS) this.handler.onStatus(conn);
    else if (frame.op === ControlOp.FLUSHED && conn.slotRef !== null) this.handler.onFlushed(conn);
    else conn.end({ op: ControlOp.REFUSED, code: 'SLOTLINK_ERR_REGISTRATION', message: `unexpected control frame "${frame.op}"` });
  }

  private permitted(c: Credentials): boolean {
    return c.uid === this.uid || c.uid === 0 || (this.options.gid !== undefined && c.gid === this.options.gid);
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
