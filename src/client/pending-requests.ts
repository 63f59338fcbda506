/**
 * The requests an endpoint has sent and not yet had answered: each settles once, with the
 * answer from the destination it was sent to, or with its timeout, its abort, the end of
 * the registration it left by, or the endpoint's end. An answer from anyone else is ignored and counted.
 */
import { mayAnswer } from '../slot/address.js';
import { AbortedError, RequestTimeoutError, type SlotlinkError } from '../errors.js';

interface Pending {
  /** The destination as written: only an answer from it settles the request. */
  to: string;
  resolve: (reply: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
}

/** Request ids are non-zero u32s, reused after wrapping. */
const MAX_REQUEST_ID = 0xffffffff;

export class PendingRequests {
  /** Answers that settled nothing (late after a timeout, a second one, or not from whom we asked). */
  ignored = 0;
  private readonly byId = new Map<number, Pending>();
  private nextId = 1;

  get size(): number {
    return this.byId.size;
  }

  /** Notes a request to `to` and returns its id; the promise settles with its answer. */
  add(to: string, timeoutMs: number, signal: AbortSignal | undefined): { id: number; answer: Promise<Buffer> } {
    const id = this.nextId;
    this.nextId = this.nextId >= MAX_REQUEST_ID ? 1 : this.nextId + 1;
    const answer = new Promise<Buffer>((resolve, reject) => {
      const p: Pending = { to, resolve, reject, timer: null, signal, onAbort: null };
      if (timeoutMs > 0) p.timer = setTimeout(() => this.fail(id, new RequestTimeoutError(to, timeoutMs)), timeoutMs);
      if (signal) {
        p.onAbort = () => this.fail(id, new AbortedError(signal.reason));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.byId.set(id, p);
    });
    return { id, answer };
  }

  /** An answer `from` someone to request `id`: true when it settled it. */
  answer(id: number, from: string, outcome: { reply: Buffer } | { error: SlotlinkError }): boolean {
    const p = this.byId.get(id);
    if (!p || !mayAnswer(p.to, from)) {
      this.ignored++;
      return false;
    }
    this.take(id, p);
    if ('reply' in outcome) p.resolve(outcome.reply);
    else p.reject(outcome.error);
    return true;
  }

  /** Request `id` failed on this side (timeout, abort, refused before it left). */
  fail(id: number, error: Error): void {
    const p = this.byId.get(id);
    if (!p) return;
    this.take(id, p);
    p.reject(error);
  }

  /** The endpoint ended: every request still waiting fails with `error`. */
  failAll(error: Error): void {
    for (const [id, p] of this.byId) {
      this.take(id, p);
      p.reject(error);
    }
  }

  /**
   * The registration ended: every request still waiting fails with `error(to)`, but those in
   * `keep`, whose REQUEST never left and goes out with the next registration.
   */
  failExcept(keep: ReadonlySet<number>, error: (to: string) => Error): void {
    for (const [id, p] of this.byId) {
      if (keep.has(id)) continue;
      this.take(id, p);
      p.reject(error(p.to));
    }
  }

  private take(id: number, p: Pending): void {
    this.byId.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
  }
}
