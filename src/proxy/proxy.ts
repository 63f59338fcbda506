/**
 * The proxy daemon (local side): registration socket, slot table, directory and router.
 * Each registered process gets its own slot; the proxy reads and writes every slot only
 * through its mark devices, woken by doorbells rather than by scanning.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { addressBytes, checkName, formatInstanceAddress, parseAddress } from '../slot/address.js';
import { defaultNodeName, defaultSocketPath } from '../contract/defaults.js';
import { ErrorCode, ProtocolVersionError, SlotlinkError } from '../errors.js';
import type { DirectoryFrame } from '../link/frame.js';
import { LinkState, type Link, type LinkHandler } from '../link/link.js';
import { Peers, type PeerAddress } from '../link/peers.js';
import type { LinkSecurity } from '../link/transport.js';
import { RecordKind, encodeErrorPayload } from '../slot/record.js';
import { createLogger, type Logger } from '../log.js';
import { native } from '../native/binding.js';
import { DEFAULT_GEOMETRY, checkGeometry, type SlotGeometry } from '../slot/layout.js';
import { Mailbox } from '../slot/mailbox.js';
import { Slot } from '../slot/slot.js';
import { Directory } from './directory.js';
import { serveMetrics } from './metrics.js';
import { LocalSlot } from './local-slot.js';
import { ControlOp, PROTOCOL_VERSION, type ProcessHello } from '../contract/registration.js';
import { RegistrationServer, type RegistrationConnection } from './registration-server.js';
import { Router } from './router.js';
import { SlotTable } from './slot-table.js';
import type { LinkStats, ProxyStats, SlotStats } from './stats.js';

export interface ProxyOptions {
  /** Registration socket path. Default: $SLOTLINK_SOCKET or a per-user temp path. */
  socketPath?: string;
  /** This proxy's node name in addresses. Default: the host name. */
  node?: string;
  /** A gid whose members may register too (socket mode 0660). Default: owner only. */
  socketGid?: number;
  /** Most slots served at once. Default 1024. */
  maxSlots?: number;
  /** Cells per direction, bytes per cell, largest message. */
  geometry?: Partial<SlotGeometry>;
  /** Bytes queued for one receiver before its senders are paused. Default 256 KiB. */
  maxQueuedBytes?: number;
  logger?: Logger;
  /** Links to other proxies. Without it the proxy serves this host only. */
  links?: LinkConfig;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics (port 0: any free port). */
  metrics?: { host: string; port: number };
}

export interface LinkConfig {
  /** Where to accept peers' connections (port 0: any free port). */
  listen?: { host: string; port: number };
  /** Peers to dial. */
  peers?: PeerAddress[];
  security: LinkSecurity;
  /** Bytes per destination a peer may send before it needs more credit. Default 1 MiB. */
  creditWindow?: number;
  /** Bytes sent to one peer and not yet acknowledged before senders wait. Default 64 MiB. */
  maxUnackedBytes?: number;
  /** Ping interval. Default 1000 ms. */
  heartbeatMs?: number;
  /** Silence after which a connection is dead. Default 3 heartbeats. */
  deadAfterMs?: number;
  /** Time a peer may stay disconnected before sends to it fail. Default 10 000 ms. */
  unreachableAfterMs?: number;
}

export class Proxy {
  /** Random per run: peers tell a restart from a reconnect by it. */
  readonly incarnation = randomBytes(8).toString('hex');
  readonly node: string;
  readonly socketPath: string;
  readonly geometry: SlotGeometry;
  private readonly log: Logger;
  private readonly table: SlotTable;
  private readonly directory = new Directory();
  private readonly router: Router;
  private readonly server: RegistrationServer;
  private readonly slots = new Set<LocalSlot>();
  private readonly startedAt = Date.now();
  private registrations = 0;
  private evictions = 0;
  private stopping = false;
  private readonly peers: Peers | null = null;
  private announceScheduled = false;
  /** The port the link listener bound (null without one). */
  linkPort: number | null = null;
  /** The port the metrics server bound (null without one). */
  metricsPort: number | null = null;
  private metricsServer: Server | null = null;
  private readonly metricsAt: { host: string; port: number } | undefined;

  constructor(options: ProxyOptions = {}) {
    this.node = checkName(options.node ?? defaultNodeName(), 'node name');
    this.socketPath = options.socketPath ?? defaultSocketPath();
    this.geometry = { ...DEFAULT_GEOMETRY, ...options.geometry };
    checkGeometry(this.geometry);
    this.log = options.logger ?? createLogger({ base: { node: this.node } });
    this.metricsAt = options.metrics;
    this.table = new SlotTable(options.maxSlots ?? 1024);
    this.router = new Router(this.node, this.directory, options.maxQueuedBytes ?? 256 * 1024);
    this.server = new RegistrationServer(
      { path: this.socketPath, gid: options.socketGid, logger: this.log },
      {
        onHello: (conn, hello) => this.register(conn, hello),
        onStatus: (conn) => conn.end({ op: ControlOp.STATUS, status: this.stats() }),
        onClose: (conn) => this.onDisconnect(conn),
        onFlushed: (conn) => (conn.slotRef as LocalSlot).flushed?.(),
      },
    );
    if (options.links) {
      const l = options.links;
      const heartbeatMs = l.heartbeatMs ?? 1000;
      this.peers = new Peers(
        {
          localNode: this.node,
          incarnation: this.incarnation,
          listen: l.listen ?? null,
          peers: l.peers ?? [],
          security: l.security,
          creditWindow: l.creditWindow ?? 1024 * 1024,
          maxUnackedBytes: l.maxUnackedBytes ?? 64 * 1024 * 1024,
          maxMessageBytes: this.geometry.maxMessageBytes,
          heartbeatMs,
          deadAfterMs: l.deadAfterMs ?? 3 * heartbeatMs,
          unreachableAfterMs: l.unreachableAfterMs ?? 10_000,
          handshakeTimeoutMs: 5000,
          logger: this.log,
        },
        this.linkHandler(),
      );
      this.router.links = this.peers;
    }
  }

  private linkHandler(): LinkHandler {
    return {
      deliver: (link, frame, credit) => this.router.fromLink(link, frame, credit),
      directory: (link, snapshot) => this.directory.setRemote(link.peer, snapshot.names),
      failBack: (from, dst, count, error) => this.failBack(from, dst, count, error),
      peerRestarted: (link, error) => this.failAwaited(link, error),
      stateChanged: (link) => {
        this.directory.invalidate();
        if (link.status.state === LinkState.RECONNECTING) this.peers?.lost(link);
      },
      localDirectory: () => this.announcement(),
    };
  }

  private announcement(): DirectoryFrame {
    return { incarnation: this.incarnation, version: this.directory.localVersion, names: this.directory.announcement() };
  }

  /** Tells every peer the local names, once per turn however many changed. */
  private announce(): void {
    if (!this.peers || this.announceScheduled) return;
    this.announceScheduled = true;
    setImmediate(() => {
      this.announceScheduled = false;
      const snapshot = this.announcement();
      for (const l of this.peers!.links.values()) l.announce(snapshot);
    });
  }

  /** `count` SENDs a link may not have delivered: their local sender hears it of each. */
  private failBack(from: Uint8Array, dst: string, count: number, error: SlotlinkError): void {
    const slot = this.localSender(from);
    if (!slot) return;
    const about = addressBytes(dst);
    const payload = encodeErrorPayload(error.code, error.message);
    for (let i = 0; i < count; i++) this.router.answer(slot, RecordKind.ERROR, about, 0, payload);
  }

  /** A peer restarted: every request waiting for an answer over its link fails now, not at its timeout. */
  private failAwaited(link: Link, error: SlotlinkError): void {
    const payload = encodeErrorPayload(error.code, error.message);
    for (const slot of this.slots) for (const r of slot.awaiting.takeLink(link)) this.router.answer(slot, RecordKind.ERROR, r.to, r.requestId, payload);
  }

  /** The local slot an instance address (`name~id.generation@node`) names, if it is still here. */
  private localSender(address: Uint8Array): LocalSlot | undefined {
    try {
      const a = parseAddress(Buffer.from(address.buffer, address.byteOffset, address.length).toString('latin1'));
      const slot = a.instance && a.node === this.node ? this.directory.instance(a.instance) : undefined;
      return slot && !slot.closed ? slot : undefined;
    } catch {
      return undefined;
    }
  }

  async start(): Promise<void> {
    await this.server.listen();
    if (this.peers) this.linkPort = await this.peers.start();
    if (this.metricsAt) {
      const m = await serveMetrics(this.metricsAt.host, this.metricsAt.port, () => this.stats());
      this.metricsServer = m.server;
      this.metricsPort = m.port;
    }
    this.log.info('proxy listening', { socket: this.socketPath, pid: process.pid, linkPort: this.linkPort, metricsPort: this.metricsPort, incarnation: this.incarnation, ...this.geometry });
  }

  /**
   * Shuts down without losing what was accepted: stops accepting processes, stops taking
   * new messages from slots once they are read to their end, waits (up to `graceMs`) until
   * every message queued here is in its receiver's slot and every link's frames are
   * acknowledged by the peer, then tells each process why it is ending and closes.
   * Receivers that do not read within the grace period are the only way to lose messages;
   * the log says how many bytes were left.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.server.close();
    const deadline = Date.now() + graceMs;
    // Each process stops sending and commits what it accepted; meanwhile everything runs.
    const reason = { code: ErrorCode.PROXY_SHUTDOWN, message: 'the proxy is shutting down' };
    await Promise.race([
      Promise.all(
        [...this.slots].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.flushed = resolve;
              s.control.send({ op: ControlOp.DRAINING, ...reason });
              s.control.socket.once('close', () => resolve());
            }),
        ),
      ),
      new Promise((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const s of this.slots) s.mailbox.drainAll();
    // From here each slot's reader stays paused: nothing new is accepted.
    for (const s of this.slots) s.mailbox.pauseReading();
    const left = () => {
      let queued = 0;
      for (const s of this.slots) queued += s.mailbox.pendingBytes;
      // Sent and not yet known to be in the peer's slots, or still waiting for credit.
      let unacked = 0;
      for (const l of this.peers?.links.values() ?? []) if (l.isUp) unacked += l.unconfirmedUnits + l.waitingBytes;
      return { queued, unacked };
    };
    for (let l = left(); (l.queued > 0 || l.unacked > 0) && Date.now() < deadline; l = left()) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // Commit every open cell: what was routed into a slot this turn is in it for good.
    for (const s of this.slots) s.mailbox.flush();
    const rest = left();
    if (rest.queued > 0 || rest.unacked > 0) this.log.warn('shutdown grace period over with messages undelivered', { queuedBytes: rest.queued, unackedBytes: rest.unacked });
    for (const s of [...this.slots]) {
      this.evict(s, new SlotlinkError(ErrorCode.PROXY_SHUTDOWN, 'the proxy is shutting down'), 'info');
    }
    this.peers?.stop();
    this.metricsServer?.close();
    this.log.info('proxy stopped', { registrations: this.registrations });
  }

  private register(conn: RegistrationConnection, hello: ProcessHello): void {
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
      const entry = new LocalSlot(id, generation, name, group, formatInstanceAddress(name, id, generation, this.node), conn.credentials, conn);
      entry.mailbox = new Mailbox(slot, {
        onMessage: (m) => this.router.route(entry, m),
        onFailure: (err) => this.evict(entry, err, 'warn'),
        onDrained: () => this.router.drained(entry),
      });
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
      conn.slotRef = entry;
      this.slots.add(entry);
      this.directory.add(entry);
      this.announce();
      this.registrations++;
      this.log.info('slot registered', { name, address: entry.address, pid: conn.credentials.pid, slot: id, generation });
    } catch (err) {
      if (allocated) this.table.release(allocated.id);
      const e = err instanceof SlotlinkError ? err : new SlotlinkError(ErrorCode.REGISTRATION, String(err), { cause: err });
      this.server.refuse(conn, e, { name: hello.name });
    }
  }

  /** The process closed its registration socket (exit, crash, kill -9): reclaim at once. */
  private onDisconnect(conn: RegistrationConnection): void {
    const entry = conn.slotRef as LocalSlot | null;
    if (!entry || entry.closed) return;
    // What it committed before going is accepted: read it out before the slot goes.
    entry.mailbox.drainAll();
    this.reclaim(entry);
    this.log.info('slot closed', { name: entry.name, address: entry.address, pid: entry.credentials.pid });
  }

  /** Ends one slot because of what it did (or shutdown); every other slot keeps running. */
  private evict(entry: LocalSlot, err: SlotlinkError, level: 'warn' | 'info'): void {
    if (entry.closed) return;
    this.evictions++;
    this.log[level]('slot ended by proxy', { name: entry.name, address: entry.address, pid: entry.credentials.pid, code: err.code, reason: err.message });
    this.reclaim(entry);
    entry.control.end({ op: ControlOp.CLOSING, ...err.toJSON() });
  }

  private reclaim(entry: LocalSlot): void {
    if (entry.closed) return;
    entry.closed = true;
    this.slots.delete(entry);
    this.directory.remove(entry);
    this.announce();
    // What was queued for it and never reached its slot is answered (see Router.deliver).
    entry.mailbox.close(new SlotlinkError(ErrorCode.RECEIVER_GONE, `"${entry.address}" went away`));
    this.router.forget(entry);
    this.table.release(entry.id);
  }

  stats(): ProxyStats {
    const slots: SlotStats[] = [...this.slots].map((s) => ({
      id: s.id,
      generation: s.generation,
      name: s.name,
      address: s.address,
      group: s.group,
      pid: s.credentials.pid,
      ...s.mailbox.counters,
      cellsIn: s.mailbox.slot.reader.cellsTaken,
      cellsOut: s.mailbox.slot.writer.cellsCommitted,
      doorbellsRung: s.mailbox.slot.up.counters.rung + s.mailbox.slot.down.counters.rung,
      doorbellsSaved: s.mailbox.slot.up.counters.saved + s.mailbox.slot.down.counters.saved,
      queuedBytes: s.mailbox.pendingBytes,
      readingPaused: s.mailbox.readingPaused,
      backPressureWaits: s.backPressureWaits,
    }));
    return {
      node: this.node,
      pid: process.pid,
      socket: this.socketPath,
      uptimeMs: Date.now() - this.startedAt,
      registrations: this.registrations,
      registrationsRefused: this.server.counters.refused,
      registrationTimeouts: this.server.counters.timedOut,
      evictions: this.evictions,
      router: { ...this.router.counters },
      slots,
      links: this.linkStats(),
      directory: this.directory.snapshot(),
      remoteDirectory: this.directory.remoteSnapshot(),
    };
  }

  private linkStats(): LinkStats[] {
    if (!this.peers) return [];
    return [...this.peers.links.values()].map((l: Link) => ({
      peer: l.peer,
      status: l.status,
      rttMs: l.rttMs,
      framesInFlight: l.framesInFlight,
      unackedBytes: l.unackedBytes,
      unconfirmedUnits: l.unconfirmedUnits,
      heldUnits: l.heldUnits,
      creditLedgers: l.ledgers,
      connectionsRefused: this.peers!.refused,
      ...l.counters,
    }));
  }
}
