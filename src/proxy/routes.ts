/**
 * Routes: where an address leads, from this proxy. A bare name is looked up here first,
 * then among the names peers announced (balanced over them); `name@node` goes to that node,
 * which is authoritative; an instance address to exactly that process. Routes are cached by
 * the address bytes until the directory changes, so forwarding a message builds no string.
 */
import { ErrorCode, type SlotlinkError, type ErrorCode as Code } from '../errors.js';
import type { Link } from '../link/link.js';
import type { OutCredit } from '../link/send-credit.js';
import { AddressCache } from '../slot/address-cache.js';
import { PROXY_ADDRESS, addressBytes, parseAddress } from '../slot/address.js';
import { addressOf, encodeErrorPayload as errorPayload, type MessageView } from '../slot/record.js';
import type { Directory, Group } from './directory.js';
import type { RegisteredProcess } from './registered-process.js';

/** Where an address leads, cached until the directory's epoch changes. */
export type Route =
  | { type: 'group'; epoch: number; group: Group }
  | { type: 'instance'; epoch: number; slot: RegisteredProcess }
  /** `to`: the address as written, for errors about it. */
  | { type: 'remote'; epoch: number; targets: Array<{ link: Link; credit: OutCredit }>; next: number; to: Uint8Array }
  | { type: 'error'; epoch: number; payload: Uint8Array }
  /** This proxy itself: requests are answered with their own payload. */
  | { type: 'proxy'; epoch: number };

/** What the router needs to know about links. */
export interface LinkLookup {
  link(node: string): Link | undefined;
}

const MAX_CACHED_ROUTES = 4096;

export class Routes {
  links: LinkLookup = { link: () => undefined };
  /** Routes by address bytes. */
  private readonly outboundCache = new AddressCache<Route>(MAX_CACHED_ROUTES);
  /** Routes for destinations arriving on links: local only. */
  private readonly inboundCache = new AddressCache<Route>(MAX_CACHED_ROUTES);

  constructor(private readonly node: string, private readonly directory: Directory) {}

  /** Where a send or request from a local process goes. */
  outbound(m: MessageView): Route {
    return this.resolve(this.outboundCache, m, true, false);
  }

  /** Where a message from a peer goes (local processes only); `byName` for sends and requests. */
  inbound(m: MessageView, byName: boolean): Route {
    return this.resolve(this.inboundCache, m, byName, true);
  }


  /** The local process a route names now (a group's next member), or null. */
  pick(r: Route): RegisteredProcess | null {
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
      return { type: 'remote', epoch, targets, next: 0, to: addressBytes(address) };
    }
    if (localOnly) return fail(ErrorCode.NO_ROUTE, `node "${a.node}" is not this node ("${this.node}")`);
    const link = this.links.link(a.node!);
    if (!link) return fail(ErrorCode.NO_ROUTE, `node "${a.node}" is not a peer of this proxy (node "${this.node}")`);
    if (!link.accepting) return fail(ErrorCode.UNREACHABLE, `node "${a.node}" is unreachable (link ${link.status.state} since ${new Date(link.status.since).toISOString()})`);
    // An explicit node is authoritative for its names: it answers NO_ROUTE itself, so a
    // name registered there a moment ago is never refused on a stale announcement.
    const key = a.instance === null ? a.name : `${a.name}~${a.instance}`;
    return { type: 'remote', epoch, targets: [{ link, credit: link.creditFor(key) }], next: 0, to: addressBytes(address) };
  }
}
