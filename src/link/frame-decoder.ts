/**
 * Reading link frames: the byte stream split into frames, each checked before use (lengths,
 * counts, every field of HELLO and DIRECTORY), and DATA frames handed over whole as runs of
 * messages. A refusal names the frame, the field and the value; the caller closes that
 * connection.
 */
import { LinkProtocolError } from '../errors.js';
import { checkName } from '../slot/address.js';
import { RecordKind } from '../slot/record.js';
import { checkPattern, subjectBytesError } from '../slot/subject.js';
import type { MessageView } from '../slot/record.js';
import { DATA_HEADER, DATA_MESSAGE_HEADER, DATA_OFFSET, DATA_SEQ, JSON_FRAME_MAX, LINK_PROTOCOL_VERSION, LinkOp, MAX_ANNOUNCED_SUBJECTS, OP_NAMES, PUBLISH_KEY, readU64, type DirectoryFrame, type LinkHello } from './frame.js';

/**
 * A DATA frame as it arrives: a run of messages from one source to one destination,
 * read in place. Its fields describe the frame; next() steps through its messages, and the
 * MessageView fields describe the current one. Valid during the callback only.
 */
export class DataFrame implements MessageView {
  seq = 0;
  /** The destination's credit offset at the frame's first message. */
  offset = 0;
  /** Messages in the frame, and their total payload bytes. */
  messages = 0;
  framePayloadBytes = 0;
  buffer: Buffer = Buffer.alloc(0);
  srcStart = 0;
  srcBytes = 0;
  /** As MessageView: the destination address, and the current message's kind, id and payload. */
  addressStart = 0;
  addressBytes = 0;
  kind: RecordKind = 1;
  requestId = 0;
  payloadStart = 0;
  payloadBytes = 0;
  /** Where the frame ends in `buffer`. */
  frameEnd = 0;
  /** Where the next message starts. */
  private cursor = 0;

  /** @internal the decoder points the view at a checked frame. */
  reset(buffer: Buffer, first: number, end: number): void {
    this.buffer = buffer;
    this.cursor = first;
    this.frameEnd = end;
  }

  /** Moves to the frame's next message; false after the last. */
  next(): boolean {
    const p = this.cursor;
    if (p >= this.frameEnd) return false;
    const b = this.buffer;
    this.kind = b[p]! as RecordKind;
    this.requestId = b.readUInt32LE(p + 1);
    this.payloadBytes = b.readUInt32LE(p + 5);
    this.payloadStart = p + DATA_MESSAGE_HEADER;
    this.cursor = this.payloadStart + this.payloadBytes;
    return true;
  }
}

/** A value as it appears in an error message: JSON, cut short. */
function preview(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks a HELLO's fields; a different version is left for the handshake to refuse by name. */
export function checkHello(h: Record<string, unknown>): asserts h is LinkHello & Record<string, unknown> {
  const fail = (field: string, why: string): never => {
    throw new LinkProtocolError(`HELLO frame: ${field} ${preview(h[field])} ${why}`);
  };
  if (!Number.isInteger(h.version)) fail('version', 'is not a whole number');
  if (h.version !== LINK_PROTOCOL_VERSION) return;
  if (typeof h.node !== 'string') fail('node', 'is not a string');
  if (typeof h.incarnation !== 'string' || !/^[0-9a-f]{16}$/.test(h.incarnation)) fail('incarnation', 'is not 16 hex digits');
  if (h.peerIncarnation !== null && (typeof h.peerIncarnation !== 'string' || !/^[0-9a-f]{16}$/.test(h.peerIncarnation))) fail('peerIncarnation', 'is neither null nor 16 hex digits');
  if (!isCount(h.delivered)) fail('delivered', 'is not a count');
  if (!isCount(h.creditWindow) || h.creditWindow === 0) fail('creditWindow', 'is not a positive whole number');
  if (!isCount(h.maxMessageBytes) || h.maxMessageBytes === 0) fail('maxMessageBytes', 'is not a positive whole number');
  if (!isCount(h.maxUnackedBytes) || h.maxUnackedBytes === 0) fail('maxUnackedBytes', 'is not a positive whole number');
}

/** Checks a DIRECTORY snapshot entry by entry. */
export function checkDirectory(d: Record<string, unknown>): asserts d is DirectoryFrame & Record<string, unknown> {
  const fail = (field: string, value: unknown, why: string): never => {
    throw new LinkProtocolError(`DIRECTORY frame: ${field} ${preview(value)} ${why}`);
  };
  if (typeof d.incarnation !== 'string') fail('incarnation', d.incarnation, 'is not a string');
  if (!isCount(d.version)) fail('version', d.version, 'is not a count');
  if (!Array.isArray(d.names)) fail('names', d.names, 'is not a list');
  (d.names as unknown[]).forEach((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) fail(`names[${i}]`, e, 'is not an object');
    const entry = e as Record<string, unknown>;
    try {
      checkName(entry.name);
    } catch {
      fail(`names[${i}].name`, entry.name, 'is not a valid name');
    }
    if (typeof entry.group !== 'boolean') fail(`names[${i}].group`, entry.group, 'is not true or false');
    if (!isCount(entry.members) || entry.members === 0) fail(`names[${i}].members`, entry.members, 'is not a positive count');
  });
  if (!Array.isArray(d.subjects)) fail('subjects', d.subjects, 'is not a list');
  const subjects = d.subjects as unknown[];
  if (subjects.length > MAX_ANNOUNCED_SUBJECTS) fail('subjects', subjects.length, `lists more than ${MAX_ANNOUNCED_SUBJECTS} patterns`);
  subjects.forEach((p, i) => {
    try {
      checkPattern(p);
    } catch {
      fail(`subjects[${i}]`, p, 'is not a valid subscription pattern');
    }
  });
}

const PUBLISH_KEY_BYTES = Buffer.from(PUBLISH_KEY, 'latin1');

export interface FrameHandler {
  /** A whole DATA frame: step through its messages with frame.next(). */
  data(frame: DataFrame): void;
  ack(seq: number): void;
  credit(key: Buffer, limit: number): void;
  wanted(key: Buffer, sent: number): void;
  json(op: typeof LinkOp.HELLO | typeof LinkOp.DIRECTORY | typeof LinkOp.ERROR | typeof LinkOp.CLOSE, body: unknown): void;
  ping(op: typeof LinkOp.PING | typeof LinkOp.PONG, time: number): void;
}

/**
 * Splits the byte stream into frames and checks each before use. Throws LinkProtocolError
 * naming the frame, field and value; the caller closes that connection.
 */
export class FrameDecoder {
  /** Fewer than 4 bytes of the next frame: its length is not known yet. */
  private head: Buffer | null = null;
  /** A frame split across reads, assembled in a buffer of its full size: each byte is copied once. */
  private partial: Buffer | null = null;
  private filled = 0;
  private readonly view = new DataFrame();
  /** Frames decoded so far. */
  frames = 0;

  constructor(private readonly maxFrameBytes: number, private readonly handler: FrameHandler) {}

  push(chunk: Buffer): void {
    let at = 0;
    if (this.head) {
      at = Math.min(4 - this.head.length, chunk.length);
      const head = Buffer.concat([this.head, chunk.subarray(0, at)]);
      this.head = null;
      if (head.length < 4) return void (this.head = head);
      this.startPartial(head, 0, 4);
    }
    if (this.partial) {
      const p = this.partial;
      const take = Math.min(p.length - this.filled, chunk.length - at);
      chunk.copy(p, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled < p.length) return;
      this.partial = null;
      this.frame(p, 0, p.length - 4);
      this.frames++;
    }
    while (chunk.length - at >= 4) {
      const body = this.checkLength(chunk.readUInt32LE(at));
      if (chunk.length - at < 4 + body) return this.startPartial(chunk, at, chunk.length - at);
      this.frame(chunk, at, body);
      this.frames++;
      at += 4 + body;
    }
    if (at < chunk.length) this.head = Buffer.from(chunk.subarray(at));
  }

  /** Starts assembling the frame whose first `bytes` bytes (at least its length) are at `at`. */
  private startPartial(from: Buffer, at: number, bytes: number): void {
    this.partial = Buffer.allocUnsafe(4 + this.checkLength(from.readUInt32LE(at)));
    from.copy(this.partial, 0, at, at + bytes);
    this.filled = bytes;
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
        v.srcBytes = buf[at + 5]!;
        v.addressBytes = buf[at + 6]!;
        if (DATA_HEADER + v.srcBytes + v.addressBytes > 4 + body) fail(`srcBytes ${v.srcBytes} + dstBytes ${v.addressBytes} run past the frame's ${body} bytes`);
        if (v.srcBytes === 0 || v.addressBytes === 0) fail('source and destination must not be empty');
        const first = at + DATA_HEADER + v.srcBytes + v.addressBytes;
        const dst = first - v.addressBytes;
        const publications = v.addressBytes === PUBLISH_KEY_BYTES.length && PUBLISH_KEY_BYTES.equals(buf.subarray(dst, first));
        // Every message is checked before any is delivered: a frame is delivered whole or not at all.
        let n = 0;
        let payload = 0;
        for (let p = first; p < end; n++) {
          if (end - p < DATA_MESSAGE_HEADER) fail(`message ${n} at byte ${p - at}: ${end - p} bytes left, less than its ${DATA_MESSAGE_HEADER}-byte header`);
          const kind = buf[p]!;
          if (kind < RecordKind.SEND || kind > RecordKind.PUBLISH) fail(`message ${n}: kind ${kind} is not a message kind`);
          const bytes = buf.readUInt32LE(p + 5);
          if (bytes > end - p - DATA_MESSAGE_HEADER) fail(`message ${n}: payloadBytes ${bytes} runs past the frame's end`);
          if ((kind === RecordKind.PUBLISH) !== publications)
            fail(`message ${n}: kind ${kind} to destination "${buf.latin1Slice(dst, first)}" (PUBLISH goes to "${PUBLISH_KEY}", and only PUBLISH does)`);
          if (publications) {
            const at0 = p + DATA_MESSAGE_HEADER;
            const subjectBytes = bytes > 0 ? buf[at0]! : 0;
            if (subjectBytes + 1 > bytes) fail(`message ${n}: subjectBytes ${subjectBytes} runs past its payloadBytes ${bytes}`);
            const why = subjectBytesError(buf, at0 + 1, subjectBytes);
            if (why) fail(`message ${n}: subject ${JSON.stringify(buf.latin1Slice(at0 + 1, at0 + 1 + subjectBytes))} is not a subject: ${why}`);
            if (buf.readUInt32LE(p + 1) !== 0) fail(`message ${n}: requestId ${buf.readUInt32LE(p + 1)} on a PUBLISH, must be 0`);
          }
          payload += bytes;
          p += DATA_MESSAGE_HEADER + bytes;
        }
        if (n === 0) fail('carries no message');
        v.seq = readU64(buf, at + DATA_SEQ);
        v.offset = readU64(buf, at + DATA_OFFSET);
        v.messages = n;
        v.framePayloadBytes = payload;
        v.srcStart = at + DATA_HEADER;
        v.addressStart = v.srcStart + v.srcBytes;
        v.reset(buf, first, end);
        return this.handler.data(v);
      }
      case LinkOp.ACK:
        if (body !== 9) fail(`length ${body}, expected 9`);
        return this.handler.ack(readU64(buf, at + 5));
      case LinkOp.CREDIT:
      case LinkOp.WANTED: {
        const keyBytes = buf[at + 5]!;
        if (body !== 10 + keyBytes || keyBytes === 0) fail(`length ${body} does not match keyBytes ${keyBytes}`);
        const key = buf.subarray(at + 14, at + 14 + keyBytes);
        const value = readU64(buf, at + 6);
        return op === LinkOp.CREDIT ? this.handler.credit(key, value) : this.handler.wanted(key, value);
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
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(`body is not a JSON object: ${preview(parsed)}`);
        if (op === LinkOp.HELLO) checkHello(parsed as Record<string, unknown>);
        else if (op === LinkOp.DIRECTORY) checkDirectory(parsed as Record<string, unknown>);
        return this.handler.json(op, parsed);
      }
      default:
        fail(`unknown op ${op} (first bytes ${buf.subarray(at, Math.min(end, at + 12)).toString('hex')})`);
    }
  }
}
