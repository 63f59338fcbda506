/**
 * The router: where each message read from a slot, or arriving on a link, goes. Sends and
 * requests go to a name (balanced over a group's members; a bare name is looked up here
 * first, then among the names peers announced); replies and errors go to the exact
 * instance that asked. A destination that does not resolve gets an ERROR back to the
 * sender, never a silent drop. A local receiver whose queue passes its limit pauses the
 * slots that feed it; a remote one is guarded by credits on its link.
 */
import { PROXY_ADDRESS, addressBytes, parseAddress } from '../address.js';
import { ErrorCode, SlotlinkError, type ErrorCode as Code } from '../errors.js';
import type { InCredit, OutCredit } from '../link/credit.js';
import type { DataFrame } from '../link/frame.js';
import type { Link } from '../link/link.js';
import { AddressCache } from '../slot/address-cache.js';
import { copyBytes } from '../util/bytes.js';
import { RecordKind, addressOf, encodeErrorPayload as errorPayload, type MessageView } from '../slot/record.js';
import type { Directory, Group } from './directory.js';
import { LocalSlot } from './local-slot.js';

/** Where an address leads, cached until the directory's epoch changes. */
type Route =
  | { type: 'group'; epoch: number; group: Group }
  | { type: 'instance'; epoch: number; slot: LocalSlot }
  | { type: 'remote'; epoch: number; targets: Array<{ link: Link; credit: OutCredit }>; next: number }
  | { type: 'error'; epoch: number; payload: Uint8Array }
  /** This proxy itself: requests are answered with their own payload. */
  | { type: 'proxy'; epoch: number };

export interface RouterCounters {
  routed: number;
  /** Messages that went out on a link. */
  toLinks: number;
  /** Messages that came in on a link. */
  fromLinks: number;
  /** Sends/requests to a destination that did not resolve (answered with an error). */
  noRoute: number;
  /** Replies whose requester had gone away. */
  repliesDropped: number;
}

/** What the router needs to know about links. */
export interface LinkLookup {
  link(node: string): Link | undefined;
}

const MAX_CACHED_ROUTES = 4096;
const PROXY_ADDRESS_BYTES = addressBytes(PROXY_ADDRESS);

export class Router {
  readonly counters: RouterCounters = { routed: 0, toLinks: 0, fromLinks: 0, noRoute: 0, repliesDropped: 0 };
  /** Routes by address bytes, so forwarding a message builds no string. */
  private readonly routes = new AddressCache<Route>(MAX_CACHED_ROUTES);
  /** Routes for destinations arriving on links: local only. */
  private readonly inboundRoutes = new AddressCache<Route>(MAX_CACHED_ROUTES);
  /** Stable copies of remote senders' addresses. */
  private readonly senders = new AddressCache<Uint8Array>(MAX_CACHED_ROUTES);
  links: LinkLookup = { link: () => undefined };
  /** The DATA frame being delivered: its link, route, sender, and the copy its waiting messages share. */
  private readonly run: { link: Link | null; route: Route | null; from: Uint8Array | null; copy: Uint8Array | null; copyBase: number } = { link: null, route: null, from: null, copy: null, copyBase: 0 };

  constructor(
    private readonly node: string,
    private readonly directory: Directory,
    /** Queue bytes per receiver past which its senders are paused. */
    private readonly maxQueuedBytes: number,
  ) {}

  /** A message a local process wrote into its slot. */
  route(src: LocalSlot, m: MessageView): void {
    const byName = m.kind === RecordKind.SEND || m.kind === RecordKind.REQUEST;
    if (!byName && src.openRequests.size > 0) src.openRequests.settle(m.requestId, m.buffer, m.addressStart, m.addressBytes);
    const r = this.resolve(this.routes, m, byName, false);
    const end = m.payloadStart + m.payloadBytes;
    if (r.type === 'proxy') {
      if (m.kind === RecordKind.REQUEST) src.mailbox.enqueue(RecordKind.REPLY, PROXY_ADDRESS_BYTES, m.requestId, m.buffer, null, m.payloadStart, end);
      else if (m.kind === RecordKind.SEND) src.mailbox.enqueue(RecordKind.ERROR, PROXY_ADDRESS_BYTES, 0, errorPayload(ErrorCode.NO_ROUTE, `"${PROXY_ADDRESS}" (the proxy) answers requests only`));
      return;
    }
    if (r.type === 'remote') {
      const t = r.targets[r.next++ % r.targets.length]!;
      this.counters.toLinks++;
      t.link.send(t.credit, src.addressBytes, src, m.kind, m.requestId, m.buffer, m.payloadStart, end);
      return;
    }
    const dest = this.pick(r);
    if (!dest) {
      const address = addressOf(m);
      if (!byName) return void this.counters.repliesDropped++;
      this.counters.noRoute++;
      const payload = r.type === 'error' ? r.payload : errorPayload(ErrorCode.NO_ROUTE, `no route to "${address}": its process has gone away`);
      src.mailbox.enqueue(RecordKind.ERROR, addressBytes(address), m.requestId, payload);
      return;
    }
    this.counters.routed++;
    if (m.kind === RecordKind.REQUEST) dest.openRequests.add(m.requestId, src.addressBytes, { slot: src, link: null });
    this.deliver(src.addressBytes, src, dest, m.kind, m.requestId, m.buffer, m.payloadStart, end);
  }

  /** A message from a peer: deliver to the local process it names, or answer why not. */
  fromLink(link: Link, f: DataFrame, credit: InCredit): void {
    this.counters.fromLinks++;
    const byName = f.kind === RecordKind.SEND || f.kind === RecordKind.REQUEST;
    const bytes = f.payloadBytes;
    // The messages of one DATA frame share source and destination: resolve them once.
    if (f.index === 0 || this.run.link !== link) {
      this.run.link = link;
      this.run.copy = null;
      this.run.route = this.resolve(this.inboundRoutes, f, byName, true);
      this.run.from = this.senders.get(f.buffer, f.srcStart, f.srcBytes) ?? null;
      if (!this.run.from) {
        this.run.from = copyBytes(f.buffer, f.srcStart, f.srcStart + f.srcBytes);
        this.senders.set(f.buffer, f.srcStart, f.srcBytes, this.run.from);
      }
    }
    const r = this.run.route!;
    const dest = this.pick(r);
    if (!dest) {
      link.consumed(credit, bytes);
      if (!byName) return void this.counters.repliesDropped++;
      this.counters.noRoute++;
      const payload = r.type === 'error' ? r.payload : errorPayload(ErrorCode.NO_ROUTE, `no route to "${addressOf(f)}@${this.node}": its process has gone away`);
      this.errorAcross(link, f.buffer.latin1Slice(f.srcStart, f.srcStart + f.srcBytes), addressBytes(`${addressOf(f)}@${this.node}`), f.requestId, payload);
      return;
    }
    const from = this.run.from!;
    if (f.kind === RecordKind.REQUEST) dest.openRequests.add(f.requestId, from, { slot: null, link });
    const mb = dest.mailbox;
    const end = f.payloadStart + bytes;
    if (mb.trySend(f.kind, from, f.requestId, f.buffer, f.payloadStart, end)) return link.consumed(credit, bytes);
    // The frame's buffer is the socket's chunk: copy the rest of this frame once (not each
    // message, not the whole chunk) and let its messages wait on that copy.
    const run = this.run;
    if (!run.copy) {
      run.copy = copyBytes(f.buffer, f.payloadStart, f.frameEnd);
      run.copyBase = f.payloadStart;
    }
    mb.enqueue(f.kind, from, f.requestId, run.copy, () => link.consumed(credit, bytes), f.payloadStart - run.copyBase, end - run.copyBase);
  }

  /**
   * Writes `source[start, end)` into `dest`'s slot, or queues it; pauses `src` while
   * `dest` is over its limit.
   */
  deliver(from: Uint8Array, src: LocalSlot | null, dest: LocalSlot, kind: RecordKind, requestId: number, source: Uint8Array, start = 0, end = source.length): void {
    const mb = dest.mailbox;
    if (!mb.trySend(kind, from, requestId, source, start, end)) mb.enqueue(kind, from, requestId, source, null, start, end);
    if (src && mb.pendingBytes > this.maxQueuedBytes) src.holdFor(dest.blockedSources);
  }

  /** `dest` wrote out its whole queue: let its senders go on. */
  drained(dest: LocalSlot): void {
    if (dest.blockedSources.size > 0) LocalSlot.release(dest.blockedSources);
  }

  /** A slot went away: whoever waited on it goes on, and whoever it owed an answer hears why. */
  forget(slot: LocalSlot): void {
    this.drained(slot);
    const open = slot.openRequests.takeAll();
    if (open.length === 0) return;
    const payload = errorPayload(ErrorCode.RECEIVER_GONE, `"${slot.address}" went away before answering this request; it may or may not have acted on it`);
    for (const r of open) {
      const { slot: local, link } = r.requester;
      if (local) {
        if (!local.closed) local.mailbox.enqueue(RecordKind.ERROR, slot.addressBytes, r.requestId, payload);
        continue;
      }
      this.errorAcross(link, Buffer.from(r.address.buffer, r.address.byteOffset, r.address.length).toString('latin1'), slot.addressBytes, r.requestId, payload);
    }
  }

  /** An ERROR from `from` over `link` to `requester` (an instance address on the peer). */
  private errorAcross(link: Link, requester: string, from: Uint8Array, requestId: number, payload: Uint8Array): void {
    const at = requester.indexOf('@');
    link.send(link.creditFor(at < 0 ? requester : requester.slice(0, at)), from, null, RecordKind.ERROR, requestId, payload, 0, payload.length);
  }

  private pick(r: Route): LocalSlot | null {
    if (r.type === 'instance') return r.slot.closed ? null : r.slot;
    if (r.type === 'group') return r.group.members[r.group.next++ % r.group.members.length] ?? null;
    return null;
  }

  private resolve(cache: AddressCache<Route>, m: MessageView, byName: boolean, localOnly: boolean): Route {
    const epoch = this.directory.epoch;
    const cached = cache.get(m.buffer, m.addressStart, m.addressBytes);
    if (cached && cached.epoch === epoch) return cached;
    const route = this.lookup(addressOf(m), byName, localOnly, epoch);
    cache.set(m.buffer, m.addressStart, m.addressBytes, route);
    return route;
  }

  private lookup(address: string, byName: boolean, localOnly: boolean, epoch: number): Route {
    const fail = (code: Code, why: string): Route => ({ type: 'error', epoch, payload: errorPayload(code, `no route to "${address}": ${why}`) });
    let a;
    try {
      a = parseAddress(address);
    } catch (err) {
      return fail(ErrorCode.INVALID_ADDRESS, (err as SlotlinkError).message);
    }
    if (a.name === PROXY_ADDRESS) return localOnly ? fail(ErrorCode.NO_ROUTE, 'the proxy answers its own processes only') : { type: 'proxy', epoch };
    const local = a.node === null || a.node === this.node;
    if (local) {
      if (a.instance !== null) {
        const slot = this.directory.instance(a.instance);
        if (!slot || slot.name !== a.name) return fail(ErrorCode.NO_ROUTE, 'that process is no longer registered');
        return { type: 'instance', epoch, slot };
      }
      if (!byName) return fail(ErrorCode.NO_ROUTE, 'replies must be addressed to an instance');
      const group = this.directory.group(a.name);
      if (group) return { type: 'group', epoch, group };
      if (localOnly || a.node !== null) return fail(ErrorCode.NO_ROUTE, `no process is registered as "${a.name}" on node "${this.node}"`);
      // A bare name nobody here holds: any peer that announced it.
      const targets = this.directory
        .nodesWith(a.name)
        .map((n) => this.links.link(n))
        .filter((l): l is Link => !!l && l.accepting)
        .map((link) => ({ link, credit: link.creditFor(a.name) }));
      if (targets.length === 0) return fail(ErrorCode.NO_ROUTE, `no process is registered as "${a.name}" on node "${this.node}" or on any connected peer`);
      return { type: 'remote', epoch, targets, next: 0 };
    }
    if (localOnly) return fail(ErrorCode.NO_ROUTE, `node "${a.node}" is not this node ("${this.node}")`);
    const link = this.links.link(a.node!);
    if (!link) return fail(ErrorCode.NO_ROUTE, `node "${a.node}" is not a peer of this proxy (node "${this.node}")`);
    if (!link.accepting) return fail(ErrorCode.UNREACHABLE, `node "${a.node}" is unreachable (link ${link.status.state} since ${new Date(link.status.since).toISOString()})`);
    // An explicit node is authoritative for its names: it answers NO_ROUTE itself, so a
    // name registered there a moment ago is never refused on a stale announcement.
    const key = a.instance === null ? a.name : `${a.name}~${a.instance}`;
    return { type: 'remote', epoch, targets: [{ link, credit: link.creditFor(key) }], next: 0 };
  }
}
