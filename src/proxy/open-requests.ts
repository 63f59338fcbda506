/**
 * Requests a local process has received and not yet answered. A reply (or an error) the
 * process writes is passed on only if it answers one of these, to the requester that asked,
 * once; anything else is refused (a process cannot answer for another). When the process
 * goes away, each requester still waiting hears so at once instead of at its timeout.
 */
import type { Link } from '../link/link.js';
import { sameBytes } from '../util/bytes.js';
import type { LocalSlot } from './local-slot.js';

/** Who asked: a process on this host, or one behind a link (`key`: its address without "@node"). */
export type Requester = { slot: LocalSlot; link: null } | { slot: null; link: Link; key: string };

export interface OpenRequest {
  requestId: number;
  /** The requester's instance address, as the responder must write it in its reply. */
  address: Uint8Array;
  requester: Requester;
}

/** Unanswered requests one process may hold; past it, new requests to it are refused with SLOTLINK_ERR_TOO_MANY_REQUESTS. */
export const MAX_OPEN_REQUESTS = 65_536;

export class OpenRequests {
  /** By request id; ids are per requester, so a few requesters may share one. */
  private readonly byId = new Map<number, OpenRequest | OpenRequest[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Notes a request delivered to this process; false when it already holds its maximum. */
  add(requestId: number, address: Uint8Array, requester: Requester): boolean {
    if (this.count >= MAX_OPEN_REQUESTS) return false;
    const entry: OpenRequest = { requestId, address, requester };
    const had = this.byId.get(requestId);
    if (had === undefined) this.byId.set(requestId, entry);
    else if (Array.isArray(had)) had.push(entry);
    else this.byId.set(requestId, [had, entry]);
    this.count++;
    return true;
  }

  /**
   * The process answers `requestId` to the address `bytes[start, start + length)`: the
   * request it answers, taken off the list, or null when it answers none.
   */
  take(requestId: number, bytes: Uint8Array, start: number, length: number): Requester | null {
    const had = this.byId.get(requestId);
    if (had === undefined) return null;
    if (!Array.isArray(had)) {
      if (!sameBytes(had.address, bytes, start, length)) return null;
      this.byId.delete(requestId);
      this.count--;
      return had.requester;
    }
    const i = had.findIndex((e) => sameBytes(e.address, bytes, start, length));
    if (i < 0) return null;
    const [entry] = had.splice(i, 1);
    if (had.length === 0) this.byId.delete(requestId);
    this.count--;
    return entry!.requester;
  }

  /** Every request still open, once; the set is empty afterwards. */
  takeAll(): OpenRequest[] {
    const all: OpenRequest[] = [];
    for (const v of this.byId.values()) {
      if (Array.isArray(v)) all.push(...v);
      else all.push(v);
    }
    this.byId.clear();
    this.count = 0;
    return all;
  }
}
