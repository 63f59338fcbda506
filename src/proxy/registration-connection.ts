/**
 * One process's registration connection: how the proxy talks to it until it goes (the
 * welcome with the slot's descriptors, draining, closing), and who it is.
 */
import type net from 'node:net';
import { ErrorCode, SyscallError } from '../errors.js';
import { native } from '../native/binding.js';
import { ControlDecoder, ControlOp, encodeControl, type ControlFrame } from '../contract/registration.js';

/** Who is at the other end, as the kernel says (SO_PEERCRED). */
export interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

/** `T`: the proxy's record of the process, once it has registered. */
export class RegistrationConnection<T = unknown> {
  /** Set once the process has a slot. */
  registered: T | null = null;
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

  /** Sends a last frame, then closes. A frame that cannot be encoded becomes a refusal saying why. */
  end(frame?: ControlFrame): void {
    if (this.ended) return;
    this.ended = true;
    if (!frame) return void this.socket.end();
    let bytes: Buffer;
    try {
      bytes = encodeControl(frame);
    } catch (err) {
      bytes = encodeControl({ op: ControlOp.REFUSED, code: ErrorCode.REGISTRATION, message: (err as Error).message });
    }
    this.socket.end(bytes);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** @internal */
  decode(chunk: Buffer): ControlFrame[] {
    return this.decoder.push(chunk);
  }
}
