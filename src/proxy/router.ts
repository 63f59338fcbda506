/**
 * The router: where each message read from a slot goes. Sends and requests go to a name
 * (balanced over a group's members); replies and errors go to the exact instance that
 * asked. A destination that does not resolve gets an ERROR record back to the sender,
 * never a silent drop. A receiver whose queue passes its limit pauses the reading of the
 * slots that feed it until it drains: memory stays bounded and only those senders wait.
 */
import { addressBytes, parseAddress } from '../address.js';
import { ErrorCode, SlotlinkError, type ErrorCode as Code } from '../errors.js';
import { AddressCache } from '../slot/address-cache.js';
import { RecordKind, addressOf, type MessageView } from '../slot/record.js';
import type { Directory, Group } from './directory.js';
import type { LocalSlot } from './local-slot.js';

/** A resolved address, cached until the directory's epoch changes. */
type Route =
  | { epoch: number; group: Group; instance: null; error: null }
  | { epoch: number; group: null; instance: LocalSlot; error: null }
  | { epoch: number; group: null; instance: null; error: Uint8Array };

export interface RouterCounters {
  routed: number;
  /** Sends/requests to a destination that did not resolve (answered with an error). */
  noRoute: number;
  /** Replies whose requester had gone away. */
  repliesDropped: number;
}

const MAX_CACHED_ROUTES = 4096;

export function errorPayload(code: Code, message: string): Uint8Array {
  return Buffer.from(JSON.stringify({ code, message }));
}

export class Router {
  readonly counters: RouterCounters = { routed: 0, noRoute: 0, repliesDropped: 0 };
  /** Routes by address bytes, so forwarding a message builds no string. */
  private readonly routes = new AddressCache<Route>(MAX_CACHED_ROUTES);

  constructor(
    private readonly node: string,
    private readonly directory: Directory,
    /** Queue bytes per receiver past which its senders are paused. */
    private readonly maxQueuedBytes: number,
  ) {}

  route(src: LocalSlot, m: MessageView): void {
    const byName = m.kind === RecordKind.SEND || m.kind === RecordKind.REQUEST;
    const r = this.resolve(m, byName);
    let dest: LocalSlot | null = null;
    if (r.error === null) {
      if (r.instance) dest = r.instance.closed ? null : r.instance;
      else {
        const g = r.group!;
        dest = g.members[g.next++ % g.members.length] ?? null;
      }
    }
    if (!dest) {
      const address = addressOf(m);
      if (byName) {
        this.counters.noRoute++;
        const payload = r.error ?? errorPayload(ErrorCode.NO_ROUTE, `no route to "${address}": its process has gone away`);
        src.mailbox.enqueue(RecordKind.ERROR, addressBytes(address), m.requestId, payload);
      } else {
        this.counters.repliesDropped++;
      }
      return;
    }
    this.counters.routed++;
    this.deliver(src, dest, m.kind, m.requestId, m.buffer, m.payloadStart, m.payloadStart + m.payloadBytes);
  }

  /**
   * Writes `source[start, end)` into `dest`'s slot, or queues it; pauses `src` while
   * `dest` is over its limit.
   */
  deliver(src: LocalSlot | null, dest: LocalSlot, kind: RecordKind, requestId: number, source: Uint8Array, start = 0, end = source.length): void {
    const from = src ? src.addressBytes : EMPTY;
    const mb = dest.mailbox;
    if (!mb.trySend(kind, from, requestId, source, start, end)) mb.enqueue(kind, from, requestId, source, null, start, end);
    if (src && mb.pendingBytes > this.maxQueuedBytes && !dest.blockedSources.has(src)) {
      src.mailbox.pauseReading();
      src.backPressureWaits++;
      dest.blockedSources.add(src);
    }
  }

  /** `dest` wrote out its whole queue: let its senders go on. */
  drained(dest: LocalSlot): void {
    if (dest.blockedSources.size === 0) return;
    for (const src of dest.blockedSources) src.mailbox.resumeReading();
    dest.blockedSources.clear();
  }

  /** A slot went away: whoever waited on it goes on. */
  forget(slot: LocalSlot): void {
    this.drained(slot);
  }

  private resolve(m: MessageView, byName: boolean): Route {
    const epoch = this.directory.epoch;
    const cached = this.routes.get(m.buffer, m.addressStart, m.addressBytes);
    if (cached && cached.epoch === epoch) return cached;
    const route = this.lookup(addressOf(m), byName, epoch);
    this.routes.set(m.buffer, m.addressStart, m.addressBytes, route);
    return route;
  }

  private lookup(address: string, byName: boolean, epoch: number): Route {
    const fail = (code: Code, why: string): Route => ({ epoch, group: null, instance: null, error: errorPayload(code, `no route to "${address}": ${why}`) });
    let a;
    try {
      a = parseAddress(address);
    } catch (err) {
      return fail(ErrorCode.INVALID_ADDRESS, (err as SlotlinkError).message);
    }
    if (a.node !== null && a.node !== this.node) return fail(ErrorCode.NO_ROUTE, `node "${a.node}" is not connected to this proxy (node "${this.node}")`);
    if (a.instance !== null) {
      const slot = this.directory.instance(a.instance);
      if (!slot || slot.name !== a.name) return fail(ErrorCode.NO_ROUTE, 'that process is no longer registered');
      return { epoch, group: null, instance: slot, error: null };
    }
    if (!byName) return fail(ErrorCode.NO_ROUTE, 'replies must be addressed to an instance');
    const group = this.directory.group(a.name);
    if (!group) return fail(ErrorCode.NO_ROUTE, `no process is registered as "${a.name}" on node "${this.node}"`);
    return { epoch, group, instance: null, error: null };
  }
}

const EMPTY = new Uint8Array(0);
