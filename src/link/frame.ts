/**
 * Link frames: what two proxies say to each other over their one connection, and how each
 * is written. Every frame is `u32 bodyBytes` then `u8 op` then the body (bodyBytes counts
 * the op). docs/protocol.md is the normative description; this file and frame-decoder.ts
 * are its code.
 */
import type { RecordKind } from '../slot/record.js';
import { copyInto } from '../util/bytes.js';

export const LinkOp = {
  HELLO: 1,
  DATA: 2,
  ACK: 3,
  CREDIT: 4,
  DIRECTORY: 5,
  PING: 6,
  PONG: 7,
  ERROR: 8,
  CLOSE: 9,
  WANTED: 10,
} as const;
export type LinkOp = (typeof LinkOp)[keyof typeof LinkOp];
export const OP_NAMES = Object.fromEntries(Object.entries(LinkOp).map(([k, v]) => [v, k])) as Record<number, string>;

/**
 * 2: a DATA frame carries a run of messages from one source to one destination.
 * 3: DATA frames carry their destination's credit offset; credit counts a cost per message;
 *    WANTED; HELLO states the receiver's limit over all destinations.
 * 4: publications (PUBLISH messages to `~publish`); DIRECTORY lists subscription patterns.
 */
export const LINK_PROTOCOL_VERSION = 4;
/**
 * The destination, and credit key, of every publication: one window for all of them on a
 * link (no name starts with `~`). A PUBLISH message's payload is u8 subjectBytes, the
 * subject, then the data.
 */
export const PUBLISH_KEY = '~publish';
/** Patterns a DIRECTORY may list. */
export const MAX_ANNOUNCED_SUBJECTS = 65_536;
/** u32 length + u8 op. */
export const FRAME_HEADER = 5;
/** DATA: header + srcBytes, dstBytes, seq (u64), offset (u64); then src, dst and the messages. */
export const DATA_HEADER = FRAME_HEADER + 2 + 8 + 8;
export const DATA_SEQ = FRAME_HEADER + 2;
export const DATA_OFFSET = DATA_SEQ + 8;
/** Each message in a DATA frame: kind, requestId, payloadBytes; then the payload. */
export const DATA_MESSAGE_HEADER = 1 + 4 + 4;
/** JSON bodies (HELLO, DIRECTORY, ERROR, CLOSE) are at most this long. */
export const JSON_FRAME_MAX = 1024 * 1024;

export interface LinkHello {
  version: number;
  node: string;
  /** Random id of this run of the proxy: a change means the peer restarted. */
  incarnation: string;
  /** The peer incarnation `delivered` refers to (null when never connected). */
  peerIncarnation: string | null;
  /** Highest DATA sequence delivered in order from the peer's current incarnation. */
  delivered: number;
  /** Credit units per destination the sender may have outstanding before it needs more credit. */
  creditWindow: number;
  /** Credit units the sender of this HELLO lets its peer have unconsumed, all destinations together. */
  maxUnackedBytes: number;
  maxMessageBytes: number;
}

export interface DirectoryFrame {
  incarnation: string;
  /** Increases with every change; a snapshot older than the last one seen is ignored. */
  version: number;
  names: Array<{ name: string; group: boolean; members: number }>;
  /** The distinct subscription patterns of the sender's processes. */
  subjects: string[];
}

// ---- encoding ----

function u64(out: Uint8Array, at: number, n: number): void {
  u32(out, at, n % 0x1_0000_0000);
  u32(out, at + 4, Math.floor(n / 0x1_0000_0000));
}

export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x1_0000_0000;
}

export function encodeJson(op: LinkOp, body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const out = Buffer.allocUnsafe(FRAME_HEADER + json.length);
  out.writeUInt32LE(1 + json.length, 0);
  out[4] = op;
  json.copy(out, FRAME_HEADER);
  return out;
}

export function encodeAck(seq: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 8);
  out.writeUInt32LE(9, 0);
  out[4] = LinkOp.ACK;
  u64(out, 5, seq);
  return out;
}

/** CREDIT (a grant: the key's limit) or WANTED (a request for it: the sender's offset). */
export function encodeCredit(key: Uint8Array, value: number, op: typeof LinkOp.CREDIT | typeof LinkOp.WANTED = LinkOp.CREDIT): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 9 + key.length);
  out.writeUInt32LE(10 + key.length, 0);
  out[4] = op;
  out[5] = key.length;
  u64(out, 6, value);
  out.set(key, 14);
  return out;
}

export function encodePing(op: typeof LinkOp.PING | typeof LinkOp.PONG, time: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 8);
  out.writeUInt32LE(9, 0);
  out[4] = op;
  out.writeDoubleLE(time, 5);
  return out;
}

/** Bytes of a DATA frame's header with these addresses (before its messages). */
export function dataHeaderBytes(srcBytes: number, dstBytes: number): number {
  return DATA_HEADER + srcBytes + dstBytes;
}

/**
 * Starts a DATA frame at `at` of `out` (the caller made room): header and addresses, no
 * message yet. Returns its size; add messages with writeDataMessage().
 */
export function writeDataHeader(out: Uint8Array, at: number, seq: number, offset: number, src: Uint8Array, dst: Uint8Array): number {
  const size = dataHeaderBytes(src.length, dst.length);
  // Plain byte stores: this runs once per frame and per message; Buffer's checked writers cost more.
  u32(out, at, size - 4);
  out[at + 4] = LinkOp.DATA;
  out[at + 5] = src.length;
  out[at + 6] = dst.length;
  u64(out, at + DATA_SEQ, seq);
  u64(out, at + DATA_OFFSET, offset);
  copyInto(out, copyInto(out, at + DATA_HEADER, src, 0, src.length), dst, 0, dst.length);
  return size;
}

/** Appends a message at `at` to the DATA frame starting at `frameAt`; returns the message's size. */
export function writeDataMessage(out: Uint8Array, frameAt: number, at: number, kind: RecordKind, requestId: number, payload: Uint8Array, start: number, end: number): number {
  const size = DATA_MESSAGE_HEADER + end - start;
  out[at] = kind;
  u32(out, at + 1, requestId);
  u32(out, at + 5, end - start);
  copyInto(out, at + DATA_MESSAGE_HEADER, payload, start, end);
  u32(out, frameAt, readU32(out, frameAt) + size);
  return size;
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000;
}

function u32(out: Uint8Array, at: number, v: number): void {
  out[at] = v;
  out[at + 1] = v >>> 8;
  out[at + 2] = v >>> 16;
  out[at + 3] = v >>> 24;
}
