/**
 * What the coverage-guided fuzzer feeds: each target runs one decoder of bytes a process or a
 * peer controls, exactly as the proxy and the client do, and names the refusals it is allowed
 * to make. Anything else thrown (a TypeError, a RangeError, an error of the wrong kind) is a
 * finding.
 */
import { BadRecordError, BadSlotError, ErrorCode, RegistrationError, SlotlinkError } from '../../src/errors.js';
import { DATA_MESSAGE_HEADER, LINK_PROTOCOL_VERSION, LinkOp, dataHeaderBytes, encodeAck, encodeCredit, encodeJson, encodePing, writeDataHeader, writeDataMessage } from '../../src/link/frame.js';
import { FrameDecoder } from '../../src/link/frame-decoder.js';
import { ControlDecoder, ControlOp, encodeControl } from '../../src/contract/registration.js';
import { CellReader } from '../../src/slot/cell-reader.js';
import { CellHeader, Direction, cellOffset, computeLayout } from '../../src/slot/layout.js';
import { MarkDevices, ReaderMark, WriterMark } from '../../src/slot/mark-devices.js';
import { RecordFlag, RecordKind, WHOLE, writeRecord } from '../../src/slot/record.js';
import { RecordReader } from '../../src/slot/record-reader.js';
import { SlotMemory } from '../../src/slot/slot-memory.js';
import type { FuzzTarget } from './coverage-fuzzer.js';

const MAX_MESSAGE = 1 << 20;
const noBell = { ring: () => {} };

/** Records in cell data, as a writer lays them out; `count` first as a u16. */
function records(parts: Array<{ kind: RecordKind; flags: number; address: string; requestId: number; payload: string; messageBytes?: number }>): Buffer {
  const data = Buffer.alloc(4096);
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  let used = 0;
  for (const p of parts) {
    const payload = Buffer.from(p.payload);
    used += writeRecord(data, view, used, p.kind, p.flags, Buffer.from(p.address), p.requestId, payload, 0, payload.length, p.messageBytes ?? payload.length);
  }
  const out = Buffer.alloc(2 + used);
  out.writeUInt16LE(parts.length, 0);
  data.copy(out, 2, 0, used);
  return out;
}

const recordSeeds = (): Buffer[] => [
  records([{ kind: RecordKind.SEND, flags: WHOLE, address: 'svc@node', requestId: 0, payload: 'hello' }]),
  records([
    { kind: RecordKind.REQUEST, flags: WHOLE, address: 'svc', requestId: 7, payload: '' },
    { kind: RecordKind.REPLY, flags: WHOLE, address: 'a~1.2@n', requestId: 7, payload: 'ok' },
    { kind: RecordKind.ERROR, flags: WHOLE, address: 'x', requestId: 0, payload: '{"code":"SLOTLINK_ERR_NO_ROUTE","message":"m"}' },
  ]),
  records([
    { kind: RecordKind.SEND, flags: RecordFlag.FIRST, address: 'big', requestId: 0, payload: 'abcd', messageBytes: 10 },
    { kind: RecordKind.SEND, flags: 0, address: '', requestId: 0, payload: 'efg', messageBytes: 10 },
    { kind: RecordKind.SEND, flags: RecordFlag.LAST, address: '', requestId: 0, payload: 'hij', messageBytes: 10 },
  ]),
];

/** Records of one cell, read as a proxy or a client reads them (fragments joined). */
export const recordTarget: FuzzTarget = {
  name: 'record',
  modules: /\/src\/slot\/(record|record-reader|reassembler)\.js$/,
  seeds: recordSeeds,
  run(input) {
    if (input.length < 2) return;
    const reader = new RecordReader(MAX_MESSAGE);
    reader.start(input.subarray(2), input.readUInt16LE(0));
    reader.read(() => true, Infinity);
  },
  refusal: (err) => err instanceof BadRecordError,
};

const layout = computeLayout(0, 1, { cellCount: 2, cellDataBytes: 4096, maxMessageBytes: MAX_MESSAGE });

/** A committed cell: its 64-byte header (marks, usedBytes, recordCount, sequence, reserved) then data. */
function cell(usedRecords: Buffer, sequence = 0): Buffer {
  const data = usedRecords.subarray(2);
  const out = Buffer.alloc(CellHeader.SIZE + data.length);
  out.writeInt32LE(WriterMark.NOT_WRITABLE, CellHeader.WRITER_MARK);
  out.writeInt32LE(ReaderMark.READABLE, CellHeader.READER_MARK);
  out.writeUInt32LE(data.length, CellHeader.USED_BYTES);
  out.writeUInt32LE(usedRecords.readUInt16LE(0), CellHeader.RECORD_COUNT);
  out.writeUInt32LE(sequence, CellHeader.SEQUENCE);
  data.copy(out, CellHeader.SIZE);
  return out;
}

/** A cell of a slot's direction, taken by the reader through its mark device, then its records read. */
export const cellTarget: FuzzTarget = {
  name: 'cell',
  modules: /\/src\/slot\/(cell-reader|mark-device|record|record-reader|reassembler|layout)\.js$/,
  seeds: () => recordSeeds().map((r) => cell(r)),
  run(input) {
    const memory = new SlotMemory(new ArrayBuffer(layout.totalBytes), layout);
    memory.bytes.set(input.subarray(0, CellHeader.SIZE + layout.cellDataBytes), cellOffset(layout, Direction.UP, 0));
    const device = new MarkDevices(memory.words, layout, Direction.UP, noBell, noBell);
    const reader = new CellReader(memory, layout, Direction.UP, device);
    const data = reader.take();
    if (!data) return;
    const records = new RecordReader(MAX_MESSAGE);
    records.start(data, reader.records);
    records.read(() => true, Infinity);
  },
  refusal: (err) => err instanceof BadSlotError || err instanceof BadRecordError,
};

function dataFrame(seq: number, offset: number, src: string, dst: string, payloads: string[], kind: RecordKind = RecordKind.SEND): Buffer {
  const s = Buffer.from(src);
  const d = Buffer.from(dst);
  const out = Buffer.alloc(dataHeaderBytes(s.length, d.length) + payloads.reduce((n, p) => n + DATA_MESSAGE_HEADER + p.length, 0));
  let at = writeDataHeader(out, 0, seq, offset, s, d);
  for (const p of payloads) at += writeDataMessage(out, 0, at, kind, kind === RecordKind.SEND ? 0 : 5, Buffer.from(p), 0, p.length);
  return out;
}

/** Link frames as a proxy decodes them from its peer's byte stream (the first byte says where a read splits it). */
export const frameTarget: FuzzTarget = {
  name: 'frame',
  modules: /\/src\/link\/frame\.js$/,
  seeds: () =>
    [
      dataFrame(1, 0, 'a~1.1@alpha', 'sink', ['hello', '', 'three']),
      dataFrame(2, 99, 'b~2.1@alpha', 'svc~3.1', ['ok'], RecordKind.REPLY),
      encodeAck(17),
      encodeCredit(Buffer.from('sink'), 1 << 21),
      encodeCredit(Buffer.from('sink'), 4096, LinkOp.WANTED),
      encodePing(LinkOp.PING, 12.5),
      encodeJson(LinkOp.HELLO, { version: LINK_PROTOCOL_VERSION, node: 'alpha', incarnation: '0123456789abcdef', peerIncarnation: null, delivered: 0, creditWindow: 1024, maxUnackedBytes: 1 << 20, maxMessageBytes: 4096 }),
      encodeJson(LinkOp.DIRECTORY, { incarnation: '0123456789abcdef', version: 2, names: [{ name: 'svc', group: true, members: 2 }], subjects: ['a.*'] }),
      encodeJson(LinkOp.ERROR, { code: 'SLOTLINK_ERR_LINK_PROTOCOL', message: 'x' }),
    ].map((f) => Buffer.concat([Buffer.from([f.length >> 1]), f])),
  run(input) {
    if (input.length < 1) return;
    const decoder = new FrameDecoder(1 << 16, {
      data: (f) => {
        while (f.next()); // every message of the frame, as the router walks it
      },
      ack: () => {},
      credit: () => {},
      wanted: () => {},
      json: () => {},
      ping: () => {},
    });
    const bytes = input.subarray(1);
    const split = Math.min(input[0]!, bytes.length);
    decoder.push(bytes.subarray(0, split));
    decoder.push(bytes.subarray(split));
  },
  refusal: (err) => err instanceof SlotlinkError && err.code === ErrorCode.LINK_PROTOCOL,
};

/** Control frames on the registration socket, as the proxy decodes what a process sends. */
export const controlTarget: FuzzTarget = {
  name: 'control',
  modules: /\/src\/proxy\/registration-protocol\.js$/,
  seeds: () => [
    encodeControl({ op: ControlOp.HELLO, version: 1, name: 'billing', group: true }),
    encodeControl({ op: ControlOp.FLUSHED }),
    encodeControl({ op: ControlOp.STATUS }),
  ],
  run(input) {
    new ControlDecoder().push(input);
  },
  refusal: (err) => err instanceof RegistrationError,
};

export const targets: FuzzTarget[] = [recordTarget, cellTarget, frameTarget, controlTarget];
