/**
 * Entries kept per request id, for as long as a request waits for its answer. Ids are
 * numbered by each requester, so a few entries may share one; a table holds at most `max`.
 */
export class RequestTable<T extends { requestId: number }> {
  private readonly byId = new Map<number, T | T[]>();
  private count = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.count;
  }

  /** False when the table is full. */
  add(entry: T): boolean {
    if (this.count >= this.max) return false;
    const had = this.byId.get(entry.requestId);
    if (had === undefined) this.byId.set(entry.requestId, entry);
    else if (Array.isArray(had)) had.push(entry);
    else this.byId.set(entry.requestId, [had, entry]);
    this.count++;
    return true;
  }

  /** The entry for `requestId` that `matches`, taken out; null when there is none. */
  take(requestId: number, matches: (e: T) => boolean): T | null {
    const had = this.byId.get(requestId);
    if (had === undefined) return null;
    if (!Array.isArray(had)) {
      if (!matches(had)) return null;
      this.byId.delete(requestId);
      this.count--;
      return had;
    }
    const i = had.findIndex(matches);
    if (i < 0) return null;
    const [entry] = had.splice(i, 1);
    if (had.length === 0) this.byId.delete(requestId);
    this.count--;
    return entry!;
  }

  /** Every entry that `matches` (all of them by default), taken out. */
  takeWhere(matches: (e: T) => boolean = () => true): T[] {
    const out: T[] = [];
    for (const [id, v] of this.byId) {
      const list = Array.isArray(v) ? v : [v];
      const keep = list.filter((e) => !matches(e));
      if (keep.length === list.length) continue;
      for (const e of list) if (matches(e)) out.push(e);
      this.count -= list.length - keep.length;
      if (keep.length === 0) this.byId.delete(id);
      else this.byId.set(id, keep.length === 1 ? keep[0]! : keep);
    }
    return out;
  }
}
