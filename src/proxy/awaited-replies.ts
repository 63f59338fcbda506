/**
 * Requests a local process sent over a link and not yet answered. An answer that comes back
 * over a link is passed to the process only if it answers one of these, over that link, from
 * the destination it was sent to, once; and when the peer restarts, every one of them fails
 * at once instead of at its requester's timeout.
 */
import { mayAnswer } from '../address.js';
import type { Link } from '../link/link.js';

/** Unanswered requests over links one process may have; past it, new ones fail with SLOTLINK_ERR_TOO_MANY_REQUESTS. */
export const MAX_AWAITED_REPLIES = 65_536;

export interface AwaitedReply {
  requestId: number;
  link: Link;
  /** The destination as the process wrote it (what an error about it names). */
  to: Uint8Array;
}

export class AwaitedReplies {
  private readonly byId = new Map<number, AwaitedReply | AwaitedReply[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Notes a request sent over `link`; false when the process already has its maximum. */
  add(requestId: number, link: Link, to: Uint8Array): boolean {
    if (this.count >= MAX_AWAITED_REPLIES) return false;
    const entry = { requestId, link, to };
    const had = this.byId.get(requestId);
    if (had === undefined) this.byId.set(requestId, entry);
    else if (Array.isArray(had)) had.push(entry);
    else this.byId.set(requestId, [had, entry]);
    this.count++;
    return true;
  }

  /** An answer to `requestId` from `from` arrived over `link`: whether it was awaited (it is not any more). */
  take(requestId: number, link: Link, from: string): boolean {
    const had = this.byId.get(requestId);
    if (had === undefined) return false;
    const matches = (e: AwaitedReply) => e.link === link && mayAnswer(Buffer.from(e.to).toString('latin1'), from);
    if (!Array.isArray(had)) {
      if (!matches(had)) return false;
      this.byId.delete(requestId);
      this.count--;
      return true;
    }
    const i = had.findIndex(matches);
    if (i < 0) return false;
    had.splice(i, 1);
    if (had.length === 0) this.byId.delete(requestId);
    this.count--;
    return true;
  }

  /** Every request awaited from `link`, taken off the list. */
  takeLink(link: Link): AwaitedReply[] {
    const out: AwaitedReply[] = [];
    for (const [id, v] of this.byId) {
      const list = Array.isArray(v) ? v : [v];
      const keep = list.filter((e) => e.link !== link);
      if (keep.length === list.length) continue;
      out.push(...list.filter((e) => e.link === link));
      this.count -= list.length - keep.length;
      if (keep.length === 0) this.byId.delete(id);
      else this.byId.set(id, keep.length === 1 ? keep[0]! : keep);
    }
    return out;
  }
}
