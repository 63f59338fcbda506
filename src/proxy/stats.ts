/** Plain stats snapshots: what `status`, `top` and metrics all read, and how they are taken. */
import type { Link, LinkCounters, LinkStatus } from '../link/link.js';
import type { MailboxStats } from '../slot/mailbox.js';
import type { NameStats } from './name-totals.js';
import type { ProcessStats } from './process-stats.js';
import type { RegisteredProcess } from './registered-process.js';
import type { RoundTripStats } from './request-round-trips.js';
import type { PublicationCounters } from './publications.js';
import type { RouterCounters } from './router.js';
import type { Subscription } from './subscriptions.js';

export interface SlotStats extends MailboxStats {
  id: number;
  generation: number;
  name: string;
  address: string;
  group: boolean;
  pid: number;
  /** Times this slot's reading was paused by a full receiver. */
  backPressureWaits: number;
}

export interface ProxyStats {
  node: string;
  pid: number;
  /** What runs: slotlink's version, Node's. */
  build: { version: string; nodeVersion: string };
  /** The proxy process's CPU, memory, descriptors and event-loop lag. */
  process: ProcessStats;
  socket: string;
  uptimeMs: number;
  /** Where the proxy accepts peers and serves metrics (null when it does not). */
  linkPort: number | null;
  metricsPort: number | null;
  registrations: number;
  /** Registration connections refused (not permitted, malformed, or a hello refused). */
  registrationsRefused: number;
  /** Registration connections dropped for sending nothing in time. */
  registrationTimeouts: number;
  evictions: number;
  /** Connections from would-be peers refused (authentication or handshake). */
  peerConnectionsRefused: number;
  router: RouterCounters;
  publications: PublicationCounters;
  slots: SlotStats[];
  /** Every local subscription, with what it delivered and dropped. */
  subscriptions: SubscriptionStats[];
  /** Slot counters per name: its processes now and the ones gone (see name-totals.ts). */
  names: NameStats[];
  links: LinkStats[];
  /** Round trips of requests through this proxy, per destination name. */
  requestRoundTrips: RoundTripStats;
  directory: Array<{ name: string; group: boolean; members: string[] }>;
  /** What each peer announced: its names, and its subscription patterns. */
  remoteDirectory: Array<{ node: string; names: string[]; subjects: string[] }>;
}

export interface SubscriptionStats {
  /** The subscriber: its name and instance address, and its own id for the subscription. */
  name: string;
  address: string;
  id: number;
  subject: string;
  policy: string;
  /** Publications written into its slot, and dropped (drop-oldest). */
  delivered: number;
  dropped: number;
  /** Payload bytes of its publications waiting for room in its slot (drop-oldest). */
  queuedBytes: number;
}

export interface LinkStats extends LinkCounters {
  peer: string;
  status: LinkStatus;
  rttMs: number | null;
  /** DATA frames sent and not yet acknowledged, and their bytes. */
  framesInFlight: number;
  unackedBytes: number;
  /** Credit units sent and not yet known to be in the peer's slots. */
  unconfirmedUnits: number;
  /** Credit units received from the peer and not yet in local slots (or answered). */
  heldUnits: number;
  /** Messages and payload bytes waiting in the link's streams to leave (for their turn, room or credit). */
  waitingMessages: number;
  waitingBytes: number;
  /** Bytes the link lets be written and not yet acknowledged now (its pipe window). */
  pipeBytes: number;
  /** Destinations tracked for credit, towards the peer and from it. */
  creditLedgers: { out: number; in: number };
  /** PINGs left unanswered because the peer was not reading what this side wrote. */
  pongsSkipped: number;
  /** Connections this proxy refused (authentication or handshake), all peers together. */
  connectionsRefused: number;
}

export function slotStats(s: RegisteredProcess): SlotStats {
  return { id: s.id, generation: s.generation, name: s.name, address: s.address, group: s.group, pid: s.credentials.pid, ...s.mailbox.stats(), backPressureWaits: s.backPressureWaits };
}

export function subscriptionStats(s: Subscription<RegisteredProcess>): SubscriptionStats {
  return { name: s.owner.name, address: s.owner.address, id: s.id, subject: s.pattern, policy: s.policy, delivered: s.delivered, dropped: s.dropped, queuedBytes: s.queuedBytes };
}

export function linkStats(l: Link, connectionsRefused: number): LinkStats {
  return {
    peer: l.peer,
    status: l.status,
    rttMs: l.rttMs,
    framesInFlight: l.framesInFlight,
    unackedBytes: l.unackedBytes,
    unconfirmedUnits: l.unconfirmedUnits,
    heldUnits: l.heldUnits,
    waitingMessages: l.waitingMessages,
    waitingBytes: l.waitingBytes,
    pipeBytes: l.pipeBytes,
    creditLedgers: l.ledgers,
    pongsSkipped: l.pongsSkipped,
    connectionsRefused,
    ...l.counters,
  };
}
