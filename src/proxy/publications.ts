/**
 * Where a publication goes (docs/slot-layout.md §8, docs/protocol.md §2): from a local
 * process, into the slot of every local subscription that matches its subject and once over
 * each link whose peer announced a matching pattern; from a link, into the matching local
 * subscriptions only (a proxy never forwards what a peer sent). Routes are cached by the
 * subject's bytes until the directory changes, so a publisher repeating its subjects costs
 * no string per message.
 *
 * A `block` subscription whose slot is full queues the publication and holds a local
 * publisher back, as a send does; a publication from a link is consumed (its credit
 * returned) once every copy is in a slot. A `drop-oldest` subscription holds nobody back: past
 * its bound, its oldest waiting publication is dropped, counted and reported.
 */
import { BadRecordError } from '../errors.js';
import { creditCost } from '../link/credit.js';
import type { DataFrame } from '../link/frame-decoder.js';
import { PUBLISH_KEY } from '../link/frame.js';
import type { Link } from '../link/link.js';
import type { InCredit } from '../link/receive-credit.js';
import type { OutCredit } from '../link/send-credit.js';
import { AddressCache } from '../slot/address-cache.js';
import { RecordKind, type MessageView } from '../slot/record.js';
import type { Pending } from '../slot/send-queue.js';
import { subjectBytesError } from '../slot/subject.js';
import { copyBytes, copyInto } from '../util/bytes.js';
import type { Directory } from './directory.js';
import type { RegisteredProcess } from './registered-process.js';
import type { LinkLookup } from './routes.js';
import type { Subscription } from './subscriptions.js';

export interface PublicationCounters {
  /** Publications read from local processes. */
  published: number;
  /** Publications that arrived on links. */
  received: number;
  /** Publications sent on links (one per link per publication). */
  sentToPeers: number;
  /** Copies written into subscribers' slots. */
  delivered: number;
  /** Copies a drop-oldest subscription dropped. */
  dropped: number;
  /** Publications from local processes that matched no subscription here or on any peer. */
  unheard: number;
}

/** Where a subject leads, cached until the directory's epoch changes. */
interface PublicationRoute {
  epoch: number;
  /** The subject's bytes (a stable copy): the address of every copy. */
  subject: Uint8Array;
  local: readonly Subscription<RegisteredProcess>[];
  /** Links to peers with a matching pattern (resolved for local publications only). */
  peers: Array<{ link: Link; credit: OutCredit }>;
}

const MAX_CACHED_SUBJECTS = 4096;
const NO_PEERS: PublicationRoute['peers'] = [];

export class Publications {
  readonly counters: PublicationCounters = { published: 0, received: 0, sentToPeers: 0, delivered: 0, dropped: 0, unheard: 0 };
  links: LinkLookup = { link: () => undefined };
  private readonly outbound = new AddressCache<PublicationRoute>(MAX_CACHED_SUBJECTS);
  private readonly inbound = new AddressCache<PublicationRoute>(MAX_CACHED_SUBJECTS);

  constructor(
    private readonly directory: Directory,
    /** Queue bytes per subscriber past which a `block` subscription's local publishers are paused. */
    private readonly maxQueuedBytes: number,
    /** A drop-oldest subscription dropped publications: its process is to hear of it. */
    private readonly dropped: (sub: Subscription<RegisteredProcess>) => void,
  ) {}

  /** A PUBLISH record a local process wrote. Throws BadRecordError (ending its slot) for one no client writes. */
  fromProcess(src: RegisteredProcess, m: MessageView): void {
    const r = this.route(this.outbound, m.buffer, m.addressStart, m.addressBytes, true);
    if (m.requestId !== 0) throw new BadRecordError(`PUBLISH to "${m.buffer.latin1Slice(m.addressStart, m.addressStart + m.addressBytes)}" has requestId ${m.requestId}, must be 0`);
    this.counters.published++;
    const start = m.payloadStart;
    const end = start + m.payloadBytes;
    for (const sub of r.local) this.toSubscriber(sub, r.subject, src.addressBytes, src, m.buffer, start, end, null);
    if (r.peers.length > 0) {
      // As a link carries it: u8 subjectBytes, the subject, the payload. A whole record read
      // from a cell has its subject right before its payload, in the proxy's own copy of the
      // cell, after a header already read: the byte before the subject takes its length and
      // the record goes from there, uncopied (a buffer per publication was a tenth of this
      // proxy's time at 64 B). A reassembled message (its subject at 0) is copied.
      let wire: Uint8Array = m.buffer;
      let from = m.addressStart - 1;
      let to = end;
      if (from >= 0 && m.addressStart + m.addressBytes === start) wire[from] = m.addressBytes;
      else {
        wire = new Uint8Array(1 + r.subject.length + m.payloadBytes);
        wire[0] = r.subject.length;
        wire.set(r.subject, 1);
        copyInto(wire, 1 + r.subject.length, m.buffer, start, end);
        from = 0;
        to = wire.length;
      }
      for (const p of r.peers) {
        this.counters.sentToPeers++;
        p.link.send(p.credit, src.addressBytes, src, RecordKind.PUBLISH, 0, wire, from, to);
      }
    } else if (r.local.length === 0) this.counters.unheard++;
  }

  /**
   * A DATA frame of publications from a peer, at its first message, sent by `from`: each goes
   * into the matching local subscriptions' slots; its credit is consumed once all are there.
   */
  fromLink(f: DataFrame, from: Uint8Array, credit: InCredit): void {
    let copy: Uint8Array | null = null;
    let copyBase = 0;
    do {
      this.counters.received++;
      const cost = creditCost(f.payloadBytes);
      const subjectBytes = f.buffer[f.payloadStart]!;
      const r = this.route(this.inbound, f.buffer, f.payloadStart + 1, subjectBytes, false);
      const start = f.payloadStart + 1 + subjectBytes;
      const end = f.payloadStart + f.payloadBytes;
      // Consumed once every copy is in a slot: at once, or, when some must wait, when the last
      // of them is in (a counter made only then: none per publication that goes straight in).
      let waiting: { left: number } | null = null;
      for (const sub of r.local) {
        const mb = sub.owner.mailbox;
        if (!sub.owner.closed && mb.trySend(RecordKind.PUBLISH, r.subject, sub.id, f.buffer, start, end)) {
          this.delivered(sub);
          continue;
        }
        // The frame's buffer is the socket's chunk: what waits, waits on one copy of the rest of the frame.
        if (!copy) {
          copy = copyBytes(f.buffer, f.payloadStart, f.frameEnd);
          copyBase = f.payloadStart;
        }
        const w = (waiting ??= { left: 1 });
        w.left++;
        this.toSubscriber(sub, r.subject, from, null, copy, start - copyBase, end - copyBase, () => {
          if (--w.left === 0) credit.consume(cost);
        });
      }
      if (!waiting || --waiting.left === 0) credit.consume(cost);
    } while (f.next());
  }

  /** Into `sub`'s slot now, or queued for it; `done` once it is there, dropped, or its subscriber gone. */
  private toSubscriber(sub: Subscription<RegisteredProcess>, subject: Uint8Array, key: Uint8Array, src: RegisteredProcess | null, source: Uint8Array, start: number, end: number, done: (() => void) | null): void {
    const dest = sub.owner;
    if (dest.closed) return done?.();
    const mb = dest.mailbox;
    if (mb.trySend(RecordKind.PUBLISH, subject, sub.id, source, start, end)) {
      this.delivered(sub);
      return done?.();
    }
    // enqueue() may write it (and run `written`) before it returns null: `p` is null then, and
    // nothing of it was counted as waiting.
    let p: Pending | null = null;
    const written = () => {
      if (p && sub.dropsOldest) sub.left(p);
      if (!p?.cancelled) this.delivered(sub);
      done?.();
    };
    const abandoned = () => {
      if (p && sub.dropsOldest) sub.left(p);
      done?.();
    };
    p = mb.enqueue(RecordKind.PUBLISH, subject, sub.id, source, written, start, end, abandoned, key);
    if (!p) return;
    if (sub.dropsOldest) {
      const drops = sub.queued(p, end - start);
      if (drops > 0) {
        this.counters.dropped += drops;
        this.dropped(sub);
      }
    } else if (src && mb.pendingBytes > this.maxQueuedBytes) dest.queueGate.hold(src);
  }

  private delivered(sub: Subscription<RegisteredProcess>): void {
    sub.delivered++;
    this.counters.delivered++;
  }

  /** The route of the subject at `buf[start, start + length)`; `withPeers` for a local publication. */
  private route(cache: AddressCache<PublicationRoute>, buf: Buffer, start: number, length: number, withPeers: boolean): PublicationRoute {
    const epoch = this.directory.epoch;
    const cached = cache.get(buf, start, length);
    if (cached && cached.epoch === epoch) return cached;
    const why = subjectBytesError(buf, start, length);
    if (why) throw new BadRecordError(`PUBLISH to ${JSON.stringify(buf.latin1Slice(start, start + length))}: not a subject: ${why}`);
    const subject = buf.latin1Slice(start, start + length);
    const peers = withPeers ? this.peersFor(subject) : NO_PEERS;
    const route: PublicationRoute = { epoch, subject: copyBytes(buf, start, start + length), local: this.directory.subscriptions.match(subject), peers };
    cache.set(buf, start, length, route);
    return route;
  }

  private peersFor(subject: string): PublicationRoute['peers'] {
    const peers: PublicationRoute['peers'] = [];
    for (const node of this.directory.nodesSubscribedTo(subject)) {
      const link = this.links.link(node);
      if (link && link.accepting) peers.push({ link, credit: link.creditFor(PUBLISH_KEY) });
    }
    return peers.length > 0 ? peers : NO_PEERS;
  }
}
