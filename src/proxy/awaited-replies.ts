/**
 * Requests a local process sent over a link and not yet answered. An answer that comes back
 * over a link is passed to the process only if it answers one of these, over that link, from
 * the destination it was sent to, once; and when the peer restarts, every one of them fails
 * at once instead of at its requester's timeout.
 */
import { mayAnswer } from '../slot/address.js';
import type { Link } from '../link/link.js';
import type { RequestRoundTrips } from './request-round-trips.js';
import { RequestTable } from './request-table.js';

/** Unanswered requests over links one process may have; past it, new ones fail with SLOTLINK_ERR_TOO_MANY_REQUESTS. */
export const MAX_AWAITED_REPLIES = 65_536;

export interface AwaitedReply {
  requestId: number;
  link: Link;
  /** The destination as the process wrote it (what an error about it names). */
  to: Uint8Array;
  /** When the request passed the proxy (performance.now()), for its round trip. */
  sentAt: number;
}

export class AwaitedReplies {
  private readonly table = new RequestTable<AwaitedReply>(MAX_AWAITED_REPLIES);

  constructor(private readonly roundTrips: RequestRoundTrips) {}

  get size(): number {
    return this.table.size;
  }

  /** Notes a request sent over `link`; false when the process already has its maximum. */
  add(requestId: number, link: Link, to: Uint8Array): boolean {
    return this.table.add({ requestId, link, to, sentAt: performance.now() });
  }

  /** An answer to `requestId` from `from` arrived over `link`: whether it was awaited (it is not any more). */
  take(requestId: number, link: Link, from: string): boolean {
    const e = this.table.take(requestId, (x) => x.link === link && mayAnswer(Buffer.from(x.to).toString('latin1'), from));
    if (!e) return false;
    this.roundTrips.answeredTo(e.to, e.sentAt);
    return true;
  }

  /** Every request awaited from `link`, taken off the list. */
  takeLink(link: Link): AwaitedReply[] {
    return this.table.takeWhere((e) => e.link === link);
  }
}
