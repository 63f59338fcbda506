/**
 * The proxy daemon: it wires the registration socket, the slot table, the directory, the
 * router and the links to peers, and registers, ends and reclaims processes. Each registered
 * process gets its own slot; the proxy reads and writes every slot only through its mark
 * devices, woken by doorbells rather than by scanning. Defaults come from the settings
 * schema (src/contract/config.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { defaultOf } from '../contract/config.js';
import { defaultNodeName, defaultSocketPath } from '../contract/defaults.js';
import { ControlOp, PROTOCOL_VERSION, type ProcessHello, type Subscribe, type Unsubscribe } from '../contract/registration.js';
import { ConfigError, ErrorCode, ProtocolVersionError, RegistrationError, SlotlinkError } from '../errors.js';
import { Peers, type PeerAddress } from '../link/peers.js';
import type { LinkSecurity } from '../link/transport.js';
import { createLogger, type Logger } from '../log.js';
import { native } from '../native/binding.js';
import { checkName, formatInstanceAddress } from '../slot/address.js';
import { DEFAULT_GEOMETRY, checkGeometry, type SlotGeometry } from '../slot/layout.js';
import { Mailbox } from '../slot/mailbox.js';
import { Slot } from '../slot/slot.js';
import { packageVersion } from '../util/package-version.js';
import { Directory } from './directory.js';
import { EventLoopDelay } from './event-loop-delay.js';
import { serveMetrics, type Readiness } from './metrics.js';
import { NameTotals } from './name-totals.js';
import { processStats } from './process-stats.js';
import { RegisteredProcess } from './registered-process.js';
import type { RegistrationConnection } from './registration-connection.js';
import { RegistrationServer, type RegistrationHandler } from './registration-server.js';
import { RequestRoundTrips } from './request-round-trips.js';
import { Router } from './router.js';
import { drainForShutdown } from './shutdown.js';
import { SlotTable } from './slot-table.js';
import { linkStats, slotStats, subscriptionStats, type ProxyStats } from './stats.js';
import type { Subscription } from './subscriptions.js';

export interface ProxyOptions {
  /** Registration socket path. Default: $SLOTLINK_SOCKET or a per-user temp path. */
  socketPath?: string;
  /** This proxy's node name in addresses. Default: the host name. */
  node?: string;
  /** A gid whose members may register too (socket mode 0660). Default: owner only. */
  socketGid?: number;
  /** Most slots served at once. Default: the setting maxSlots. */
  maxSlots?: number;
  /** Cells per direction, bytes per cell, largest message. */
  geometry?: Partial<SlotGeometry>;
  /** Bytes queued for one receiver before its senders are paused. Default: the setting maxQueuedBytes. */
  maxQueuedBytes?: number;
  logger?: Logger;
  /** Links to other proxies. Without it the proxy serves this host only. */
  links?: LinkConfig;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics (port 0: any free port). */
  metrics?: { host: string; port: number };
}

/** What a running proxy can take on SIGHUP (its log level is its logger's). */
export interface ProxyReload {
  /** Peers and keys (undefined: the configuration has no links). */
  links?: { peers: PeerAddress[]; security: LinkSecurity };
}

export interface LinkConfig {
  /** Where to accept peers' connections (port 0: any free port). */
  listen?: { host: string; port: number };
  /** Peers to dial. */
  peers?: PeerAddress[];
  security: LinkSecurity;
  /** Credit units per destination a peer may have in flight. Default: the setting creditWindow. */
  creditWindow?: number;
  /** Credit units in flight between this proxy and a peer, each way. Default: the setting maxUnackedBytes. */
  maxUnackedBytes?: number;
  /** Ping interval. Default: the setting heartbeatMs. */
  heartbeatMs?: number;
  /** Silence after which a connection is dead. Default 3 heartbeats. */
  deadAfterMs?: number;
  /** Time a peer may stay disconnected before sends to it fail. Default: the setting unreachableAfterMs. */
  unreachableAfterMs?: number;
}

/** How long a link handshake may take before the connection is dropped. */
const HANDSHAKE_TIMEOUT_MS = 5000;
/** Missed heartbeats after which a connection is dead. */
const HEARTBEATS_TO_DEAD = 3;
/** How often, at most, a process hears that its drop-oldest subscriptions dropped publications. */
const DROP_REPORT_MS = 100;

export class Proxy implements RegistrationHandler<RegisteredProcess> {
  /** Random per run: peers tell a restart from a reconnect by it. */
  readonly incarnation = randomBytes(8).toString('hex');
  readonly node: string;
  readonly socketPath: string;
  readonly geometry: SlotGeometry;
  private readonly log: Logger;
  private readonly table: SlotTable;
  private readonly directory = new Directory(this.incarnation);
  private readonly router: Router;
  private readonly server: RegistrationServer<RegisteredProcess>;
  private readonly slots = new Set<RegisteredProcess>();
  /** What processes gone did, per name, so that counters by name never go back. */
  private readonly nameTotals = new NameTotals((name) => this.directory.group(name) !== undefined);
  private readonly roundTrips = new RequestRoundTrips();
  private readonly eventLoop = new EventLoopDelay();
  private readonly startedAt = Date.now();
  private registrations = 0;
  private evictions = 0;
  private stopping = false;
  private readonly peers: Peers | null = null;
  /** The port the link listener bound (null without one). */
  linkPort: number | null = null;
  /** The port the metrics server bound (null without one). */
  metricsPort: number | null = null;
  private metricsServer: Server | null = null;
  private readonly metricsAt: { host: string; port: number } | undefined;
  private currentSecurity: LinkSecurity | null = null;
  private readonly maxQueuedBytes: number;
  /** Subscriptions with drops their processes have not heard of yet. */
  private readonly dropReports = new Set<Subscription<RegisteredProcess>>();
  private dropReportTimer: NodeJS.Timeout | null = null;

  constructor(options: ProxyOptions = {}) {
    this.node = checkName(options.node ?? defaultNodeName(), 'node name');
    this.socketPath = options.socketPath ?? defaultSocketPath();
    this.geometry = { ...DEFAULT_GEOMETRY, ...options.geometry };
    checkGeometry(this.geometry);
    this.log = options.logger ?? createLogger({ base: { node: this.node } });
    this.metricsAt = options.metrics;
    this.table = new SlotTable(options.maxSlots ?? defaultOf('maxSlots'));
    this.maxQueuedBytes = options.maxQueuedBytes ?? defaultOf('maxQueuedBytes');
    this.router = new Router(this.node, this.directory, this.maxQueuedBytes, (sub) => this.dropsToReport(sub));
    this.server = new RegistrationServer({ path: this.socketPath, gid: options.socketGid, logger: this.log }, this);
    if (options.links) {
      const l = options.links;
      this.currentSecurity = l.security;
      const heartbeatMs = l.heartbeatMs ?? defaultOf('heartbeatMs');
      this.peers = new Peers(
        {
          localNode: this.node,
          incarnation: this.incarnation,
          listen: l.listen ?? null,
          peers: l.peers ?? [],
          security: l.security,
          creditWindow: l.creditWindow ?? defaultOf('creditWindow'),
          maxUnackedBytes: l.maxUnackedBytes ?? defaultOf('maxUnackedBytes'),
          maxMessageBytes: this.geometry.maxMessageBytes,
          heartbeatMs,
          deadAfterMs: l.deadAfterMs ?? HEARTBEATS_TO_DEAD * heartbeatMs,
          unreachableAfterMs: l.unreachableAfterMs ?? defaultOf('unreachableAfterMs'),
          handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
          logger: this.log,
        },
        { sink: this.router, session: this.router, directory: this.directory, linksChanged: () => this.directory.invalidate() },
      );
      this.router.links = this.peers;
    }
  }

  async start(): Promise<void> {
    await this.server.listen();
    this.eventLoop.start();
    if (this.peers) this.linkPort = await this.peers.start();
    if (this.metricsAt) {
      const m = await serveMetrics(this.metricsAt.host, this.metricsAt.port, () => this.stats(), () => this.readiness());
      this.metricsServer = m.server;
      this.metricsPort = m.port;
    }
    this.log.info('proxy listening', { socket: this.socketPath, linkPort: this.linkPort, metricsPort: this.metricsPort, incarnation: this.incarnation, ...this.geometry });
  }

  /**
   * Shuts down without losing what was accepted (see shutdown.ts), then tells each process
   * why it is ending and closes.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.server.close();
    // An array, not the map's iterator: the drain looks at the links again and again.
    await drainForShutdown(this.slots, [...(this.peers?.links.values() ?? [])], graceMs, this.log);
    for (const s of [...this.slots]) this.evict(s, new SlotlinkError(ErrorCode.PROXY_SHUTDOWN, 'the proxy is shutting down'), 'info');
    this.peers?.stop();
    this.metricsServer?.close();
    this.eventLoop.stop();
    this.log.info('proxy stopped', { registrations: this.registrations });
  }

  // ---- registration (RegistrationHandler) ----

  onHello(conn: RegistrationConnection<RegisteredProcess>, hello: ProcessHello): void {
    let allocated: { id: number; generation: number } | null = null;
    try {
      if (this.stopping) throw new SlotlinkError(ErrorCode.PROXY_SHUTDOWN, 'the proxy is shutting down');
      if (hello.version !== PROTOCOL_VERSION) throw new ProtocolVersionError(hello.version, PROTOCOL_VERSION);
      const name = checkName(hello.name);
      const group = hello.group === true;
      this.directory.checkFree(name, group);
      allocated = this.table.allocate();
      const { id, generation } = allocated;
      const { slot, memfd } = Slot.create(id, generation, this.geometry);
      const entry = new RegisteredProcess(id, generation, name, group, formatInstanceAddress(name, id, generation, this.node), conn.credentials, conn, this.roundTrips);
      entry.mailbox = new Mailbox(slot, {
        onMessage: (m) => this.router.route(entry, m),
        onFailure: (err) => this.evict(entry, err, 'warn'),
        onDrained: () => this.router.drained(entry),
      }, true); // many sources feed one process: they take turns (send-queue.ts)
      // Start reading first: the proxy has said it sleeps before the process gets its slot.
      entry.mailbox.start(true);
      try {
        conn.sendWithFds(
          { op: ControlOp.WELCOME, version: PROTOCOL_VERSION, node: this.node, name, address: entry.address, layout: slot.layout },
          [memfd, slot.proxyBell.fd, slot.processBell.fd],
        );
      } catch (err) {
        entry.mailbox.close();
        throw err;
      } finally {
        native.close(memfd);
      }
      conn.registered = entry;
      this.slots.add(entry);
      this.directory.add(entry);
      this.peers?.namesChanged();
      this.registrations++;
      this.log.info('slot registered', { clientName: name, address: entry.address, clientPid: conn.credentials.pid, slot: id, generation });
    } catch (err) {
      if (allocated) this.table.release(allocated.id);
      const e = err instanceof SlotlinkError ? err : new SlotlinkError(ErrorCode.REGISTRATION, String(err), { cause: err });
      this.server.refuse(conn, e, { clientName: hello.name });
    }
  }

  onStatus(conn: RegistrationConnection<RegisteredProcess>): void {
    conn.end({ op: ControlOp.STATUS, status: this.stats() });
  }

  onFlushed(conn: RegistrationConnection<RegisteredProcess>): void {
    conn.registered?.flushed?.();
  }

  /** A subscription (docs/slot-layout.md §8): in effect, or refused with why; a malformed one ends the slot. */
  onSubscribe(conn: RegistrationConnection<RegisteredProcess>, frame: Subscribe): void {
    const entry = conn.registered;
    if (!entry || entry.closed) return;
    try {
      this.directory.subscriptions.add(entry, frame, this.maxQueuedBytes);
    } catch (err) {
      if (err instanceof RegistrationError) return this.evict(entry, err, 'warn');
      if (err instanceof SlotlinkError) return conn.send({ op: ControlOp.UNSUBSCRIBED, id: frame.id, ...err.toJSON() });
      throw err;
    }
    this.subscriptionsChanged();
    conn.send({ op: ControlOp.SUBSCRIBED, id: frame.id });
  }

  onUnsubscribe(conn: RegistrationConnection<RegisteredProcess>, frame: Unsubscribe): void {
    const entry = conn.registered;
    if (!entry || entry.closed) return;
    if (this.directory.subscriptions.remove(entry, frame.id)) this.subscriptionsChanged();
    conn.send({ op: ControlOp.UNSUBSCRIBED, id: frame.id });
  }

  private subscriptionsChanged(): void {
    this.directory.subscriptionsChanged();
    this.peers?.namesChanged();
  }

  /** `sub` dropped publications: its process hears how many, at most every DROP_REPORT_MS. */
  private dropsToReport(sub: Subscription<RegisteredProcess>): void {
    if (sub.dropped === sub.unreported) this.log.warn('subscriber falling behind: dropping its oldest publications', { clientName: sub.owner.name, address: sub.owner.address, subject: sub.pattern, maxQueuedBytes: sub.maxQueuedBytes });
    this.dropReports.add(sub);
    if (this.dropReportTimer) return;
    this.dropReportTimer = setTimeout(() => {
      this.dropReportTimer = null;
      for (const s of this.dropReports) {
        if (!s.owner.closed && s.unreported > 0) s.owner.control.send({ op: ControlOp.DROPPED, id: s.id, messages: s.unreported });
        s.unreported = 0;
      }
      this.dropReports.clear();
    }, DROP_REPORT_MS);
    this.dropReportTimer.unref();
  }

  /** The process closed its registration socket (exit, crash, kill -9): reclaim at once. */
  onClose(conn: RegistrationConnection<RegisteredProcess>): void {
    const entry = conn.registered;
    if (!entry || entry.closed) return;
    // What it committed before going is accepted: read it out before the slot goes.
    entry.mailbox.drainAll();
    this.reclaim(entry);
    this.log.info('slot closed', { clientName: entry.name, address: entry.address, clientPid: entry.credentials.pid });
  }

  /** Ends one slot because of what it did (or shutdown); every other slot keeps running. */
  private evict(entry: RegisteredProcess, err: SlotlinkError, level: 'warn' | 'info'): void {
    if (entry.closed) return;
    this.evictions++;
    this.log[level]('slot ended by proxy', { clientName: entry.name, address: entry.address, clientPid: entry.credentials.pid, code: err.code, reason: err.message });
    this.reclaim(entry);
    entry.control.end({ op: ControlOp.CLOSING, ...err.toJSON() });
  }

  private reclaim(entry: RegisteredProcess): void {
    if (entry.closed) return;
    entry.closed = true;
    this.slots.delete(entry);
    this.directory.remove(entry);
    if (this.directory.subscriptions.removeAll(entry)) this.directory.subscriptionsChanged();
    this.peers?.namesChanged();
    // What was queued for it and never reached its slot is answered (see Router.deliver).
    entry.mailbox.close(new SlotlinkError(ErrorCode.RECEIVER_GONE, `"${entry.address}" went away`));
    this.nameTotals.retire(entry.name, slotStats(entry));
    this.router.forget(entry);
    this.table.release(entry.id);
  }

  /**
   * A reload: peers added and removed, keys rotated; the links to peers that
   * stay keep their connection and session. Returns the peers added and removed.
   */
  reload(change: ProxyReload): { added: string[]; removed: string[] } {
    if (!change.links) {
      if (this.peers && this.peers.configured().length > 0) return this.peers.reconfigure([], this.currentSecurity!);
      return { added: [], removed: [] };
    }
    if (!this.peers) throw new ConfigError('peer', 'this proxy was started without links; restart it to add peers');
    this.currentSecurity = change.links.security;
    return this.peers.reconfigure(change.links.peers, change.links.security);
  }

  /** Ready once every configured peer's link is up (a proxy with no peers is ready once it listens). */
  readiness(): Readiness {
    const peers: Record<string, string> = {};
    for (const node of this.peers?.configured() ?? []) peers[node] = this.peers!.link(node)?.status.state ?? 'connecting';
    return { ready: !this.stopping && Object.values(peers).every((s) => s === 'up'), peers };
  }

  stats(): ProxyStats {
    const refused = this.peers?.refused ?? 0;
    const slots = [...this.slots].map(slotStats);
    return {
      node: this.node,
      pid: process.pid,
      build: { version: packageVersion(), nodeVersion: process.version },
      process: processStats(this.eventLoop),
      socket: this.socketPath,
      uptimeMs: Date.now() - this.startedAt,
      linkPort: this.linkPort,
      metricsPort: this.metricsPort,
      registrations: this.registrations,
      registrationsRefused: this.server.counters.refused,
      registrationTimeouts: this.server.counters.timedOut,
      evictions: this.evictions,
      peerConnectionsRefused: refused,
      router: { ...this.router.counters },
      publications: { ...this.router.publications.counters },
      slots,
      subscriptions: [...this.directory.subscriptions.all()].map(subscriptionStats),
      names: this.nameTotals.stats(slots),
      links: [...(this.peers?.links.values() ?? [])].map((l) => linkStats(l, refused)),
      requestRoundTrips: this.roundTrips.stats(),
      directory: this.directory.snapshot(),
      remoteDirectory: this.directory.remoteSnapshot(),
    };
  }
}
