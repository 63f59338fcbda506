/**
 * One registration of an endpoint with its proxy: the slot it got (memory, doorbells, the
 * mailbox that reads and writes it) and the registration connection, whose end is this
 * registration's end. Every control frame the proxy sends a registered process is handled
 * in onControl(), and every one the process sends goes out through control(): new control
 * operations go there. The endpoint (endpoint.ts) outlives its attachments: when one ends
 * it may make another.
 */
import type net from 'node:net';
import { ClosedError, type SlotlinkError, errorFromWire } from '../errors.js';
import { ControlDecoder, ControlOp, PROTOCOL_VERSION, encodeControl, type ControlFrame, type Welcome } from '../contract/registration.js';
import { Mailbox, type MailboxHandler } from '../slot/mailbox.js';
import type { MessageView } from '../slot/record.js';
import type { Pending } from '../slot/send-queue.js';
import { Slot } from '../slot/slot.js';
import { register } from './registration.js';

/** What an attachment tells its endpoint. */
export interface AttachmentHandler {
  /** A complete message arrived; the view is valid during this call only. */
  onMessage(message: MessageView): void;
  /** The proxy is shutting down: nothing new may go into this slot. */
  onDraining(reason: SlotlinkError): void;
  /**
   * The registration ended (null: the connection just closed, with no reason given). What the
   * proxy had committed to this slot has been read; `left` was queued and not (all) in the slot.
   */
  onEnded(reason: SlotlinkError | null, left: Pending[]): void;
  /** A control frame about something else than the registration itself (subscriptions: subscribed, unsubscribed, dropped). */
  onNotice(frame: ControlFrame): void;
}

export class Attachment implements MailboxHandler {
  readonly mailbox: Mailbox;
  /** False once nothing new may be written into this slot (the proxy drains, or it ended). */
  accepting = true;
  /** True once the connection has ended. */
  ended = false;
  private handler: AttachmentHandler | null = null;
  /** Why the registration is ending, as far as known: a `closing` or `draining` frame, a failure. */
  private reason: SlotlinkError | null = null;
  private readonly idleWaiters: Array<() => void> = [];
  private flushedOwed = false;

  private constructor(readonly slot: Slot, readonly welcome: Welcome, private readonly socket: net.Socket, private readonly more: ControlFrame[]) {
    this.mailbox = new Mailbox(slot, this);
  }

  /** Registers `name` at `socketPath` and maps the slot; rejects with the proxy's refusal or why it could not. */
  static async open(socketPath: string, name: string, group: boolean, timeoutMs: number): Promise<Attachment> {
    const reg = await register(socketPath, { op: ControlOp.HELLO, version: PROTOCOL_VERSION, name, group }, timeoutMs);
    let slot: Slot;
    try {
      slot = Slot.attach(reg.fds[0], reg.fds[1], reg.fds[2], reg.welcome.layout);
    } catch (err) {
      reg.socket.destroy();
      throw err;
    }
    return new Attachment(slot, reg.welcome, reg.socket, reg.more);
  }

  /** This registration's address: `name~id.generation@node`. */
  get address(): string {
    return this.welcome.address;
  }

  /**
   * Starts reading the slot and the connection, reporting to `handler`; `paused`: the
   * endpoint does not want its slot read for now. Call in the same turn as open() resolved.
   */
  start(handler: AttachmentHandler, paused: boolean): void {
    this.handler = handler;
    if (paused) this.mailbox.pauseReading();
    const decoder = new ControlDecoder();
    this.socket.on('data', (chunk: Buffer) => {
      let frames: ControlFrame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.reason = err as SlotlinkError;
        return void this.socket.destroy();
      }
      for (const f of frames) this.onControl(f);
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => this.end());
    this.mailbox.start(false);
    for (const f of this.more.splice(0)) this.onControl(f);
  }

  /** Sends a control frame to the proxy (dropped once the connection has ended). */
  control(frame: ControlFrame): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(encodeControl(frame));
  }

  /** Resolves once nothing is queued behind the slot, or the registration has ended. */
  idle(): Promise<void> {
    if (this.ended || !this.mailbox.backlogged) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The application leaves: commit the open cell and end the connection; the proxy reads the rest. */
  leave(): void {
    this.accepting = false;
    this.mailbox.flush();
    this.socket.end();
  }

  /** Never started (the endpoint closed while it registered): undo the registration. */
  abandon(): void {
    this.accepting = false;
    this.ended = true;
    this.socket.destroy();
    this.mailbox.close();
  }

  // ---- the registration connection ----

  /** A control frame from the proxy. */
  private onControl(f: ControlFrame): void {
    switch (f.op) {
      case ControlOp.CLOSING:
        this.reason = errorFromWire(f.code, f.message);
        return;
      case ControlOp.DRAINING:
        return this.drainForProxy(errorFromWire(f.code, f.message));
      default:
        return this.handler!.onNotice(f);
    }
  }

  /**
   * The proxy is shutting down: accept nothing more, let what is queued go in (the proxy
   * reads meanwhile), commit the open cell, and say so, so it can read it all before it goes.
   */
  private drainForProxy(reason: SlotlinkError): void {
    if (!this.accepting || this.ended) return;
    this.accepting = false;
    this.reason = reason;
    this.flushedOwed = true;
    this.handler!.onDraining(reason);
    if (!this.mailbox.backlogged) this.sendFlushed();
  }

  private sendFlushed(): void {
    this.flushedOwed = false;
    this.mailbox.flush();
    this.control({ op: ControlOp.FLUSHED });
  }

  /** The connection closed: read what the proxy committed, take back what never got in, report. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.accepting = false;
    this.mailbox.resumeReading();
    this.mailbox.readRemaining();
    const left = this.mailbox.takeQueued();
    this.mailbox.close(new ClosedError('the slot of a registration that ended', this.reason));
    for (const w of this.idleWaiters.splice(0)) w();
    this.handler!.onEnded(this.reason, left);
  }

  // ---- MailboxHandler ----

  onMessage(message: MessageView): void {
    this.handler!.onMessage(message);
  }

  onFailure(error: SlotlinkError): void {
    this.reason = error;
    this.socket.destroy();
  }

  onDrained(): void {
    if (this.flushedOwed) this.sendFlushed();
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
