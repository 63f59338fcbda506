/**
 * Requests a local process has received and not yet answered, so that when the process goes
 * away (exit, crash, eviction) each requester hears so at once instead of waiting for its
 * timeout. Kept per responding slot by the router: added as a request is delivered, settled
 * as the reply (or error) passes back through the proxy.
 */
import type { Link } from '../link/link.js';
import { sameBytes } from '../util/bytes.js';
import type { LocalSlot } from './local-slot.js';

/** Who asked: a process on this host, or one behind a link. */
export type Requester = { slot: LocalSlot; link: null } | { slot: null; link: Link };

export interface OpenRequest {
  requestId: number;
  /** The requester's instance address, as the responder will write it in its reply. */
  address: Uint8Array;
  requester: Requester;
}

/** Past this many, new requests to one process are not tracked (their requesters' timeouts apply). */
export const MAX_OPEN_REQUESTS = 65_536;

export class OpenRequests {
  /** By request id; ids are per requester, so a few requesters may share one. */
  private readonly byId = new Map<number, OpenRequest | OpenRequest[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(requestId: number, address: Uint8Array, requester: Requester): void {
    if (this.count >= MAX_OPEN_REQUESTS) return;
    const entry: OpenRequest = { requestId, address, requester };
    const had = this.byId.get(requestId);
    if (had === undefined) this.byId.set(requestId, entry);
    else if (Array.isArray(had)) had.push(entry);
    else this.byId.set(requestId, [had, entry]);
    this.count++;
  }

  /** The process answered `requestId` to the address `bytes[start, start + length)`. */
  settle(requestId: number, bytes: Uint8Array, start: number, length: number): void {
    const had = this.byId.get(requestId);
    if (had === undefined) return;
    if (!Array.isArray(had)) {
      if (!sameBytes(had.address, bytes, start, length)) return;
      this.byId.delete(requestId);
      this.count--;
      return;
    }
    const i = had.findIndex((e) => sameBytes(e.address, bytes, start, length));
    if (i < 0) return;
    had.splice(i, 1);
    if (had.length === 0) this.byId.delete(requestId);
    this.count--;
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
