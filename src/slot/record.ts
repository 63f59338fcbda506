/**
 * Records: how messages are packed into a cell. A cell holds `recordCount` records
 * back to back; each is a 24-byte header, the address, the payload, then padding to 8.
 * A message larger than a cell is split into fragments (FIRST ... LAST) written in order
 * by the one writer of the direction, so fragments of two messages never interleave.
 */
import { BadRecordError } from '../errors.js';
import { copyInto } from '../util/bytes.js';

export const RecordKind = { SEND: 1, REQUEST: 2, REPLY: 3, ERROR: 4, PUBLISH: 5 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/**
 * Whether somebody waits on a message of this kind: a request, or an answer to one. Such a
 * message is not held for batching (mailbox.ts) nor queued behind other streams' bulk
 * (link.ts); sends and publications are.
 */
export function isAwaited(kind: RecordKind): boolean {
  return kind === RecordKind.REQUEST || kind === RecordKind.REPLY || kind === RecordKind.ERROR;
}
export const KIND_NAMES: Record<number, string> = { 1: 'SEND', 2: 'REQUEST', 3: 'REPLY', 4: 'ERROR', 5: 'PUBLISH' };

export const RecordFlag = { FIRST: 1, LAST: 2 } as const;
export const WHOLE = RecordFlag.FIRST | RecordFlag.LAST;

/** Byte offsets inside a record header. */
export const RecordHeader = {
  RECORD_BYTES: 0,
  KIND: 4,
  FLAGS: 5,
  ADDRESS_BYTES: 6,
  RESERVED: 7,
  REQUEST_ID: 8,
  PAYLOAD_BYTES: 12,
  MESSAGE_BYTES: 16,
  RESERVED2: 20,
  SIZE: 24,
} as const;

export const RECORD_ALIGN = 8;
export const MAX_ADDRESS_BYTES = 255;

export function recordBytes(addressBytes: number, payloadBytes: number): number {
  return (RecordHeader.SIZE + addressBytes + payloadBytes + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/** Writes one record at `offset` of `data`; the caller has checked it fits. Returns its size. */
export function writeRecord(
  data: Uint8Array,
  view: DataView,
  offset: number,
  kind: RecordKind,
  flags: number,
  address: Uint8Array,
  requestId: number,
  payload: Uint8Array,
  payloadStart: number,
  payloadBytes: number,
  messageBytes: number,
): number {
  const size = recordBytes(address.length, payloadBytes);
  view.setUint32(offset + RecordHeader.RECORD_BYTES, size, true);
  view.setUint8(offset + RecordHeader.KIND, kind);
  view.setUint8(offset + RecordHeader.FLAGS, flags);
  view.setUint8(offset + RecordHeader.ADDRESS_BYTES, address.length);
  view.setUint8(offset + RecordHeader.RESERVED, 0);
  view.setUint32(offset + RecordHeader.REQUEST_ID, requestId, true);
  view.setUint32(offset + RecordHeader.PAYLOAD_BYTES, payloadBytes, true);
  view.setUint32(offset + RecordHeader.MESSAGE_BYTES, messageBytes, true);
  view.setUint32(offset + RecordHeader.RESERVED2, 0, true);
  const at = copyInto(data, offset + RecordHeader.SIZE, address, 0, address.length);
  // Padding is zero too: a cell is reused, and nothing of an earlier record may show through.
  for (let p = copyInto(data, at, payload, payloadStart, payloadStart + payloadBytes), end = offset + size; p < end; p++) data[p] = 0;
  return size;
}

/**
 * A message as read from a slot, without copying: its address and payload are ranges of
 * `buffer`. Valid only during the call it is passed to; copy what must outlive it.
 */
export interface MessageView {
  readonly kind: RecordKind;
  readonly requestId: number;
  readonly buffer: Buffer;
  readonly addressStart: number;
  readonly addressBytes: number;
  readonly payloadStart: number;
  readonly payloadBytes: number;
}

/**
 * Walks the records of a cell that has already been copied out of shared memory, checking
 * every field before use. One cursor is reused for all records (no allocation per record).
 */
export class RecordCursor implements MessageView {
  kind: RecordKind = RecordKind.SEND;
  flags = 0;
  requestId = 0;
  addressStart = 0;
  addressBytes = 0;
  payloadStart = 0;
  payloadBytes = 0;
  messageBytes = 0;
  private offset = 0;
  private seen = 0;
  private data: Buffer = Buffer.alloc(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private count = 0;

  constructor(private readonly maxMessageBytes: number) {}

  reset(data: Buffer, recordCount: number): void {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.offset = 0;
    this.seen = 0;
    this.count = recordCount;
  }

  get buffer(): Buffer {
    return this.data;
  }

  /** Whether the current record is the cell's last (by its record count). */
  get lastRead(): boolean {
    return this.seen === this.count;
  }

  /** Bytes of the cell walked so far (the records before the current one, and it). */
  get position(): number {
    return this.offset;
  }

  /** Whether the current record is a whole message (not a fragment). */
  get whole(): boolean {
    return this.flags === WHOLE;
  }

  /** Advances to the next record; false after the last. Throws BadRecordError on bad input. */
  next(): boolean {
    const used = this.data.length;
    if (this.seen === this.count) {
      if (this.offset !== used) this.fail(`cell says ${this.count} records but ${used - this.offset} bytes remain after them`);
      return false;
    }
    const at = this.offset;
    if (used - at < RecordHeader.SIZE) this.fail(`record ${this.seen} at offset ${at}: header needs ${RecordHeader.SIZE} bytes, only ${used - at} remain`);
    const v = this.view;
    const size = v.getUint32(at + RecordHeader.RECORD_BYTES, true);
    const kind = v.getUint8(at + RecordHeader.KIND);
    const flags = v.getUint8(at + RecordHeader.FLAGS);
    const addressBytes = v.getUint8(at + RecordHeader.ADDRESS_BYTES);
    const payloadBytes = v.getUint32(at + RecordHeader.PAYLOAD_BYTES, true);
    const messageBytes = v.getUint32(at + RecordHeader.MESSAGE_BYTES, true);
    const requestId = v.getUint32(at + RecordHeader.REQUEST_ID, true);
    const where = `record ${this.seen} at offset ${at}`;
    if (kind < RecordKind.SEND || kind > RecordKind.PUBLISH) this.fail(`${where}: kind ${kind} is not a record kind`);
    if (v.getUint8(at + RecordHeader.RESERVED) !== 0 || v.getUint32(at + RecordHeader.RESERVED2, true) !== 0)
      this.fail(`${where}: reserved bytes 7 and 20..23 hold ${v.getUint8(at + RecordHeader.RESERVED)} and ${v.getUint32(at + RecordHeader.RESERVED2, true)}, must be zero`);
    // A PUBLISH's requestId depends on the direction (0 up, a subscription id down): its reader checks it.
    if ((kind === RecordKind.SEND) !== (requestId === 0) && kind !== RecordKind.ERROR && kind !== RecordKind.PUBLISH)
      this.fail(`${where}: requestId ${requestId} on a ${KIND_NAMES[kind]} (0 for a SEND, non-zero for a REQUEST or REPLY)`);
    if (flags & ~WHOLE) this.fail(`${where}: flags 0x${flags.toString(16)} has unknown bits`);
    if (size > used - at) this.fail(`${where}: recordBytes ${size} runs past the cell's ${used} used bytes`);
    if (size !== recordBytes(addressBytes, payloadBytes))
      this.fail(`${where}: recordBytes ${size} does not match addressBytes ${addressBytes} + payloadBytes ${payloadBytes}`);
    if (messageBytes > this.maxMessageBytes) this.fail(`${where}: messageBytes ${messageBytes} exceeds the maximum ${this.maxMessageBytes}`);
    if (payloadBytes > messageBytes) this.fail(`${where}: payloadBytes ${payloadBytes} exceeds messageBytes ${messageBytes}`);
    if (flags === WHOLE && payloadBytes !== messageBytes)
      this.fail(`${where}: a whole message has payloadBytes ${payloadBytes} but messageBytes ${messageBytes}`);
    if ((flags & RecordFlag.FIRST) === 0 && addressBytes !== 0) this.fail(`${where}: a continuation fragment carries an address`);
    this.kind = kind as RecordKind;
    this.flags = flags;
    this.requestId = requestId;
    this.addressStart = at + RecordHeader.SIZE;
    this.addressBytes = addressBytes;
    this.payloadStart = this.addressStart + addressBytes;
    this.payloadBytes = payloadBytes;
    this.messageBytes = messageBytes;
    this.offset = at + size;
    this.seen++;
    return true;
  }


  private fail(message: string): never {
    throw new BadRecordError(message);
  }
}

/** An ERROR record's payload: `{"code","message"}` as UTF-8 JSON (docs/slot-layout.md §4). */
export function encodeErrorPayload(code: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ code, message }));
}

/** The code and message of an ERROR payload; a payload that is not that JSON is kept as text. */
export function decodeErrorPayload(payload: Buffer): { code: string; message: string } {
  try {
    const { code, message } = JSON.parse(payload.toString('utf8')) as { code: unknown; message: unknown };
    return { code: String(code), message: String(message) };
  } catch {
    return { code: 'SLOTLINK_ERR_REMOTE', message: payload.toString('utf8').slice(0, 200) };
  }
}

/** The address of a message as a string; addresses are ASCII by construction. */
export function addressOf(m: MessageView): string {
  return m.buffer.latin1Slice(m.addressStart, m.addressStart + m.addressBytes);
}

declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
  }
}
