/** Plain stats snapshots: what `status`, `top` and metrics all read. */
import type { MailboxCounters } from '../slot/mailbox.js';
import type { LinkCounters, LinkStatus } from '../link/link.js';
import type { RouterCounters } from './router.js';

export interface SlotStats extends MailboxCounters {
  id: number;
  generation: number;
  name: string;
  address: string;
  group: boolean;
  pid: number;
  /** Cells (batches) read from / committed to the slot. */
  cellsIn: number;
  cellsOut: number;
  doorbellsRung: number;
  doorbellsSaved: number;
  /** Bytes waiting for room in this slot. */
  queuedBytes: number;
  /** True while the proxy holds off reading this slot because a receiver is full. */
  readingPaused: boolean;
  /** Times this slot's reading was paused by a full receiver. */
  backPressureWaits: number;
}

export interface ProxyStats {
  node: string;
  pid: number;
  socket: string;
  uptimeMs: number;
  registrations: number;
  /** Registration connections refused (not permitted, malformed, or a hello refused). */
  registrationsRefused: number;
  /** Registration connections dropped for sending nothing in time. */
  registrationTimeouts: number;
  evictions: number;
  router: RouterCounters;
  slots: SlotStats[];
  links: LinkStats[];
  directory: Array<{ name: string; group: boolean; members: string[] }>;
  remoteDirectory: Array<{ node: string; names: string[] }>;
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
  /** Destinations tracked for credit, towards the peer and from it. */
  creditLedgers: { out: number; in: number };
  /** Connections this proxy refused (authentication or handshake), all peers together. */
  connectionsRefused: number;
}
