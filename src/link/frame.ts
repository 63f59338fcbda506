/**
 * Link frames: what two proxies say to each other over their one connection.
 * Every frame is `u32 bodyBytes` then `u8 op` then the body (bodyBytes counts the op).
 * docs/protocol.md is the normative description; this file is its code.
 */
import { ErrorCode, SlotlinkError } from '../errors.js';
import type { MessageView, RecordKind } from '../slot/record.js';
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
} as const;
export type LinkOp = (typeof LinkOp)[keyof typeof LinkOp];
const OP_NAMES = Object.fromEntries(Object.entries(LinkOp).map(([k, v]) => [v, k])) as Record<number, string>;

export const LINK_PROTOCOL_VERSION = 1;
/** u32 length + u8 op. */
export const FRAME_HEADER = 5;
/** DATA: header + kind, srcBytes, dstBytes, requestId, seq (lo, hi). */
export const DATA_HEADER = FRAME_HEADER + 3 + 4 + 8;
const JSON_FRAME_MAX = 1024 * 1024;

export class LinkProtocolError extends SlotlinkError {
  constructor(message: string) {
    super(ErrorCode.LINK_PROTOCOL, message);
  }
}

export interface Hello {
  version: number;
  node: string;
  /** Random id of this run of the proxy: a change means the peer restarted. */
  incarnation: string;
  /** The peer incarnation `delivered` refers to (null when never connected). */
  peerIncarnation: string | null;
  /** Highest DATA sequence delivered in order from the peer's current incarnation. */
  delivered: number;
  /** Bytes per destination the sender may have outstanding before it needs more credit. */
  creditWindow: number;
  maxMessageBytes: number;
}

export interface DirectoryFrame {
  incarnation: string;
  /** Increases with every change; a snapshot older than the last one seen is ignored. */
  version: number;
  names: Array<{ name: string; group: boolean; members: number }>;
}

// ---- encoding ----

function u64(buf: Buffer, at: number, n: number): void {
  buf.writeUInt32LE(n % 0x1_0000_0000, at);
  buf.writeUInt32LE(Math.floor(n / 0x1_0000_0000), at + 4);
}

function readU64(buf: Buffer, at: number): number {
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

export function encodeCredit(key: Uint8Array, limit: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 9 + key.length);
  out.writeUInt32LE(10 + key.length, 0);
  out[4] = LinkOp.CREDIT;
  out[5] = key.length;
  u64(out, 6, limit);
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

export function dataFrameBytes(srcBytes: number, dstBytes: number, payloadBytes: number): number {
  return DATA_HEADER + srcBytes + dstBytes + payloadBytes;
}

/** Writes a DATA frame at `at` of `out` (the caller made room). Returns its size. */
export function writeData(out: Buffer, at: number, seq: number, kind: RecordKind, requestId: number, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, start: number, end: number): number {
  const size = dataFrameBytes(src.length, dst.length, end - start);
  // Plain byte stores: this runs once per message, and Buffer's checked writers cost more.
  u32(out, at, size - 4);
  out[at + 4] = LinkOp.DATA;
  out[at + 5] = kind;
  out[at + 6] = src.length;
  out[at + 7] = dst.length;
  u32(out, at + 8, requestId);
  u32(out, at + 12, seq % 0x1_0000_0000);
  u32(out, at + 16, Math.floor(seq / 0x1_0000_0000));
  const p = copyInto(out, at + DATA_HEADER, src, 0, src.length);
  copyInto(out, copyInto(out, p, dst, 0, dst.length), payload, start, end);
  return size;
}

function u32(out: Uint8Array, at: number, v: number): void {
  out[at] = v;
  out[at + 1] = v >>> 8;
  out[at + 2] = v >>> 16;
  out[at + 3] = v >>> 24;
}

/** The fields of a DATA frame, read in place. Valid during the callback only. */
export class DataFrame implements MessageView {
  seq = 0;
  kind: RecordKind = 1;
  requestId = 0;
  buffer: Buffer = Buffer.alloc(0);
  srcStart = 0;
  srcBytes = 0;
  /** As MessageView: the destination address and the payload. */
  addressStart = 0;
  addressBytes = 0;
  payloadStart = 0;
  payloadBytes = 0;
}

/** Reads the seq, kind, requestId and src of the DATA frame at `at` (for resend bookkeeping). */
export function peekData(buf: Buffer, at: number): { seq: number; kind: number; requestId: number; src: string; dst: string } {
  const srcEnd = at + DATA_HEADER + buf[at + 6]!;
  return {
    seq: readU64(buf, at + 12),
    kind: buf[at + 5]!,
    requestId: buf.readUInt32LE(at + 8),
    src: buf.latin1Slice(at + DATA_HEADER, srcEnd),
    dst: buf.latin1Slice(srcEnd, srcEnd + buf[at + 7]!),
  };
}

export interface FrameHandler {
  data(frame: DataFrame): void;
  ack(seq: number): void;
  credit(key: Buffer, limit: number): void;
  json(op: typeof LinkOp.HELLO | typeof LinkOp.DIRECTORY | typeof LinkOp.ERROR | typeof LinkOp.CLOSE, body: unknown): void;
  ping(op: typeof LinkOp.PING | typeof LinkOp.PONG, time: number): void;
}

/**
 * Splits the byte stream into frames and checks each before use. Throws LinkProtocolError
 * naming the frame, field and value; the caller closes that connection.
 */
export class FrameDecoder {
  private pending: Buffer | null = null;
  private readonly view = new DataFrame();
  /** Frames decoded so far. */
  frames = 0;

  constructor(private readonly maxFrameBytes: number, private readonly handler: FrameHandler) {}

  push(chunk: Buffer): void {
    let at = 0;
    // Finish a frame split across reads by copying only its own bytes, not the whole chunk.
    while (this.pending) {
      const p = this.pending;
      const want = p.length < 4 ? 4 : 4 + this.checkLength(p.readUInt32LE(0));
      const take = Math.min(want - p.length, chunk.length - at);
      this.pending = Buffer.concat([p, chunk.subarray(at, at + take)]);
      at += take;
      if (this.pending.length < want) return;
      if (want > 4) {
        const whole = this.pending;
        this.pending = null;
        this.frame(whole, 0, want - 4);
        this.frames++;
      }
    }
    while (chunk.length - at >= 4) {
      const body = this.checkLength(chunk.readUInt32LE(at));
      if (chunk.length - at < 4 + body) break;
      this.frame(chunk, at, body);
      this.frames++;
      at += 4 + body;
    }
    if (at < chunk.length) this.pending = chunk.subarray(at);
  }

  private checkLength(body: number): number {
    if (body < 1 || body > this.maxFrameBytes) throw new LinkProtocolError(`frame ${this.frames}: length ${body} is outside 1..${this.maxFrameBytes}`);
    return body;
  }

  private frame(buf: Buffer, at: number, body: number): void {
    const op = buf[at + 4]!;
    const end = at + 4 + body;
    const fail = (why: string): never => {
      throw new LinkProtocolError(`${OP_NAMES[op] ?? `op ${op}`} frame: ${why}`);
    };
    switch (op) {
      case LinkOp.DATA: {
        if (body < DATA_HEADER - 4) fail(`length ${body} is shorter than the ${DATA_HEADER - 4}-byte DATA header`);
        const v = this.view;
        v.kind = buf[at + 5]! as RecordKind;
        if (v.kind < 1 || v.kind > 4) fail(`kind ${v.kind} is not a message kind`);
        v.srcBytes = buf[at + 6]!;
        v.addressBytes = buf[at + 7]!;
        if (DATA_HEADER + v.srcBytes + v.addressBytes > 4 + body) fail(`srcBytes ${v.srcBytes} + dstBytes ${v.addressBytes} run past the frame's ${body} bytes`);
        if (v.srcBytes === 0 || v.addressBytes === 0) fail('source and destination must not be empty');
        v.requestId = buf.readUInt32LE(at + 8);
        v.seq = readU64(buf, at + 12);
        v.buffer = buf;
        v.srcStart = at + DATA_HEADER;
        v.addressStart = v.srcStart + v.srcBytes;
        v.payloadStart = v.addressStart + v.addressBytes;
        v.payloadBytes = end - v.payloadStart;
        return this.handler.data(v);
      }
      case LinkOp.ACK:
        if (body !== 9) fail(`length ${body}, expected 9`);
        return this.handler.ack(readU64(buf, at + 5));
      case LinkOp.CREDIT: {
        const keyBytes = buf[at + 5]!;
        if (body !== 10 + keyBytes || keyBytes === 0) fail(`length ${body} does not match keyBytes ${keyBytes}`);
        return this.handler.credit(buf.subarray(at + 14, at + 14 + keyBytes), readU64(buf, at + 6));
      }
      case LinkOp.PING:
      case LinkOp.PONG:
        if (body !== 9) fail(`length ${body}, expected 9`);
        return this.handler.ping(op, buf.readDoubleLE(at + 5));
      case LinkOp.HELLO:
      case LinkOp.DIRECTORY:
      case LinkOp.ERROR:
      case LinkOp.CLOSE: {
        if (body > JSON_FRAME_MAX) fail(`length ${body} exceeds ${JSON_FRAME_MAX}`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(buf.toString('utf8', at + 5, end));
        } catch {
          fail(`body is not valid JSON: ${JSON.stringify(buf.toString('latin1', at + 5, Math.min(end, at + 45)))}`);
        }
        if (typeof parsed !== 'object' || parsed === null) fail('body is not a JSON object');
        return this.handler.json(op, parsed);
      }
      default:
        fail(`unknown op ${op} (first bytes ${buf.subarray(at, Math.min(end, at + 12)).toString('hex')})`);
    }
  }
}
