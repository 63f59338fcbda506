/**
 * The registration socket's control frames: a u32 little-endian length, then that many
 * bytes of UTF-8 JSON. The welcome frame carries the slot's three descriptors
 * (memfd, proxy doorbell, process doorbell) as SCM_RIGHTS on its first byte.
 * See docs/slot-layout.md, "Registration".
 */
import { RegistrationError } from '../errors.js';
import type { SlotLayout } from '../slot/layout.js';

export const PROTOCOL_VERSION = 1;
/** Largest control frame, but for the status reply. Everything a process sends is this small. */
export const MAX_CONTROL_FRAME = 64 * 1024;
/** Largest status reply: a proxy with thousands of slots and hundreds of links says a lot. */
export const MAX_STATUS_FRAME = 16 * 1024 * 1024;
/** A connection that has sent neither hello nor status by then is dropped. */
export const HELLO_TIMEOUT_MS = 5000;

export const ControlOp = {
  HELLO: 'hello',
  WELCOME: 'welcome',
  REFUSED: 'refused',
  CLOSING: 'closing',
  DRAINING: 'draining',
  FLUSHED: 'flushed',
  STATUS: 'status',
  SUBSCRIBE: 'subscribe',
  SUBSCRIBED: 'subscribed',
  UNSUBSCRIBE: 'unsubscribe',
  UNSUBSCRIBED: 'unsubscribed',
  DROPPED: 'dropped',
} as const;
export type ControlOp = (typeof ControlOp)[keyof typeof ControlOp];

export interface ProcessHello { op: 'hello'; version: number; name: string; group?: boolean }
export interface Welcome { op: 'welcome'; version: number; node: string; name: string; address: string; layout: SlotLayout }
export interface Refused { op: 'refused'; code: string; message: string }
export interface Closing { op: 'closing'; code: string; message: string }
/** The proxy is shutting down: stop sending, commit what was accepted, answer `flushed`. */
export interface Draining { op: 'draining'; code: string; message: string }
export interface Flushed { op: 'flushed' }
export interface StatusRequest { op: 'status' }
export interface StatusReply { op: 'status'; status: unknown }

/** What a subscription does when its subscriber falls behind (docs/slot-layout.md §8). */
export const SubscriptionPolicy = {
  /** Publications wait for room, and hold their publishers back. */
  BLOCK: 'block',
  /** Past `maxQueuedBytes` waiting, the oldest are dropped and counted. */
  DROP_OLDEST: 'drop-oldest',
} as const;
export type SubscriptionPolicy = (typeof SubscriptionPolicy)[keyof typeof SubscriptionPolicy];
/** Bytes a drop-oldest subscription lets wait, at the proxy and in the client, unless it says otherwise. */
export const DEFAULT_SUBSCRIPTION_QUEUED_BYTES = 256 * 1024;
/** Subscriptions one process may hold. */
export const MAX_SUBSCRIPTIONS = 4096;
/** Subscription ids are u32s other than 0 (they travel in a record's requestId). */
export const MAX_SUBSCRIPTION_ID = 0xffffffff;

export interface Subscribe { op: 'subscribe'; id: number; subject: string; policy?: SubscriptionPolicy; maxQueuedBytes?: number }
export interface Subscribed { op: 'subscribed'; id: number }
export interface Unsubscribe { op: 'unsubscribe'; id: number }
/** The subscription has ended; with `code` and `message` when the proxy refused it. */
export interface Unsubscribed { op: 'unsubscribed'; id: number; code?: string; message?: string }
/** The proxy dropped `messages` publications for a drop-oldest subscription since it last said so. */
export interface Dropped { op: 'dropped'; id: number; messages: number }
export type ControlFrame = ProcessHello | Welcome | Refused | Closing | Draining | Flushed | StatusRequest | StatusReply | Subscribe | Subscribed | Unsubscribe | Unsubscribed | Dropped;

/** The size limit of a frame: the status reply may be large, every other frame is small. */
function limitFor(frame: ControlFrame): number {
  return frame.op === ControlOp.STATUS && 'status' in frame ? MAX_STATUS_FRAME : MAX_CONTROL_FRAME;
}

export function encodeControl(frame: ControlFrame): Buffer {
  const body = Buffer.from(JSON.stringify(frame), 'utf8');
  const max = limitFor(frame);
  if (body.length > max) throw new RegistrationError(`control frame "${frame.op}" is ${body.length} bytes, over the ${max}-byte limit`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Splits a byte stream into control frames, checking length and shape. */
export class ControlDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  /** `maxFrameBytes`: MAX_STATUS_FRAME where a status reply is expected, else MAX_CONTROL_FRAME. */
  constructor(private readonly maxFrameBytes = MAX_CONTROL_FRAME) {}

  push(chunk: Buffer): ControlFrame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: ControlFrame[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32LE(0);
      if (length > this.maxFrameBytes) throw new RegistrationError(`control frame length ${length} exceeds ${this.maxFrameBytes}`);
      if (this.buffered.length < 4 + length) break;
      const body = this.buffered.subarray(4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      let frame: unknown;
      try {
        frame = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new RegistrationError('control frame is not valid JSON', err);
      }
      if (typeof frame !== 'object' || frame === null || typeof (frame as { op?: unknown }).op !== 'string' || !Object.values(ControlOp).includes((frame as { op: ControlOp }).op))
        throw new RegistrationError(`control frame has no known "op": ${body.toString('utf8').slice(0, 80)}`);
      frames.push(frame as ControlFrame);
    }
    return frames;
  }
}
