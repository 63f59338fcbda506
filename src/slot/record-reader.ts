/**
 * The messages of a cell: walks its records (checked by the cursor) and joins fragments
 * (checked by the reassembler), so a reader sees whole messages only. One per direction
 * reader: fragments of a message may span cells of that direction.
 */
import { BadRecordError } from '../errors.js';
import { Reassembler } from './reassembler.js';
import { RecordCursor, type MessageView } from './record.js';

export class RecordReader {
  private readonly cursor: RecordCursor;
  private readonly reassembler = new Reassembler();
  private open = false;

  constructor(maxMessageBytes: number) {
    this.cursor = new RecordCursor(maxMessageBytes);
  }

  /** Whether the cell last started has records not read yet (a turn's budget ran out in it). */
  get midCell(): boolean {
    return this.open;
  }

  /** The next cell to read: `data` (a cell's bytes, copied out of shared memory) holds `recordCount` records. */
  start(data: Buffer, recordCount: number): void {
    this.cursor.reset(data, recordCount);
    this.open = true;
  }

  /**
   * Calls `onMessage` for each message completed by the current cell's records, while it
   * returns true, until `budget` bytes of the cell are read (the record that crosses it is
   * read whole) or the cell ends. Returns the bytes read; `midCell` says whether more are
   * left. Throws BadRecordError.
   */
  read(onMessage: (m: MessageView) => boolean, budget: number): number {
    const c = this.cursor;
    const from = c.position;
    while (this.open && c.position - from < budget) {
      if (!c.next()) {
        this.open = false;
        break;
      }
      let message: MessageView | null = c;
      if (c.whole) {
        if (this.reassembler.heldBytes > 0) throw new BadRecordError('a whole message arrived in the middle of a fragmented one');
      } else message = this.reassembler.push(c);
      if (message && !onMessage(message)) break;
      // After the cell's last record: check that the cell ends there and close it now, not on the next read.
      if (c.lastRead) this.open = c.next();
    }
    return c.position - from;
  }
}
