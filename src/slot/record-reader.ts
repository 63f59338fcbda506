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

  constructor(maxMessageBytes: number) {
    this.cursor = new RecordCursor(maxMessageBytes);
  }

  /**
   * Calls `onMessage` for each message completed by the `recordCount` records of `data` (a
   * cell's bytes, copied out of shared memory), while it returns true. Throws BadRecordError.
   */
  read(data: Buffer, recordCount: number, onMessage: (m: MessageView) => boolean): void {
    const c = this.cursor;
    c.reset(data, recordCount);
    while (c.next()) {
      let message: MessageView | null = c;
      if (c.whole) {
        if (this.reassembler.heldBytes > 0) throw new BadRecordError('a whole message arrived in the middle of a fragmented one');
      } else {
        message = this.reassembler.push(c);
        if (!message) continue;
      }
      if (!onMessage(message)) return;
    }
  }
}
