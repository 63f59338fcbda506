/**
 * Requests a local process has received and not yet answered. A reply (or an error) the
 * process writes is passed on only if it answers one of these, to the requester that asked,
 * once; anything else is refused (a process cannot answer for another). When the process
 * goes away, each requester still waiting hears so at once instead of at its timeout.
 */
import type { Link } from '../link/link.js';
import { sameBytes } from '../util/bytes.js';
import type { RequestRoundTrips } from './request-round-trips.js';
import { RequestTable } from './request-table.js';

/** Who asked: a process on this host (`S`: the proxy's record of it), or one behind a link (`key`: its address without "@node"). */
export type Requester<S> = { slot: S; link: null } | { slot: null; link: Link; key: string };

export interface OpenRequest<S> {
  requestId: number;
  /** The requester's instance address, as the responder must write it in its reply. */
  address: Uint8Array;
  requester: Requester<S>;
  /** When the request passed the proxy (performance.now()), for its round trip. */
  sentAt: number;
}

/** Unanswered requests one process may hold; past it, new requests to it are refused with SLOTLINK_ERR_TOO_MANY_REQUESTS. */
export const MAX_OPEN_REQUESTS = 65_536;

export class OpenRequests<S> {
  private readonly table = new RequestTable<OpenRequest<S>>(MAX_OPEN_REQUESTS);

  /** `name`: the process's, under which its answers' round trips are counted. */
  constructor(
    private readonly name: string,
    private readonly roundTrips: RequestRoundTrips,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** Notes a request delivered to this process; false when it already holds its maximum. */
  add(requestId: number, address: Uint8Array, requester: Requester<S>): boolean {
    return this.table.add({ requestId, address, requester, sentAt: performance.now() });
  }

  /**
   * The process answers `requestId` to the address `bytes[start, start + length)`: the
   * requester it answers, taken off the list, or null when it answers none.
   */
  take(requestId: number, bytes: Uint8Array, start: number, length: number): Requester<S> | null {
    const e = this.table.take(requestId, (x) => sameBytes(x.address, bytes, start, length));
    if (!e) return null;
    this.roundTrips.answered(this.name, e.sentAt);
    return e.requester;
  }

  /** Every request still open, once; the set is empty afterwards. */
  takeAll(): OpenRequest<S>[] {
    return this.table.takeWhere();
  }
}
