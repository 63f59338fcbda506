/**
 * The proxy's peers: it listens for other proxies, dials the ones it was given, runs the
 * handshake, and keeps exactly one connection per peer. When both dial at once, the
 * connection dialed by the node whose name sorts first is kept and the other closed; both
 * sides apply the same rule, so they agree without talking about it.
 */
import type net from 'node:net';
import { checkName } from '../slot/address.js';
import { ConfigError, ErrorCode, SlotlinkError } from '../errors.js';
import type { Logger } from '../log.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { LINK_PROTOCOL_VERSION, LinkOp, encodeJson, type LinkHello } from './frame.js';
import { Link, LinkState, type LinkParts, type LinkOptions, type LinkStateListener } from './link.js';
import { createLinkServer, dialLink, type LinkSecurity, type LinkServer, type PeerIdentity } from './transport.js';

export interface PeerAddress {
  node: string;
  host: string;
  port: number;
}

export interface PeersOptions extends Omit<LinkOptions, 'peerNode' | 'logger'> {
  listen: { host: string; port: number } | null;
  peers: PeerAddress[];
  security: LinkSecurity;
  heartbeatMs: number;
  /** A connection with no frame for this long is dead. */
  deadAfterMs: number;
  handshakeTimeoutMs: number;
  logger: Logger;
}

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5000;

/** What the proxy gives the links Peers makes: where their messages go, and who hears of their sessions and names. */
export type PeerParts = Omit<LinkParts, 'state'> & {
  /** Told whenever a link goes up or down (routes through it change). */
  linksChanged(): void;
};

export class Peers implements LinkStateListener {
  readonly links = new Map<string, Link>();
  private server: LinkServer | null = null;
  /** How links are secured now (a reload may rotate keys). */
  private security: LinkSecurity;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly dialing = new Set<string>();
  private readonly addresses = new Map<string, PeerAddress>();
  private stopped = false;
  private announceScheduled = false;
  /** Connections refused by authentication or handshake (for stats and tests). */
  refused = 0;

  constructor(private readonly options: PeersOptions, private readonly parts: PeerParts) {
    for (const p of options.peers) this.addresses.set(checkName(p.node, 'peer node name'), p);
    this.security = options.security;
  }

  /** Starts listening (if configured) and dialing; resolves with the bound port. */
  async start(): Promise<number | null> {
    let port: number | null = null;
    if (this.options.listen) {
      const { host, port: wanted } = this.options.listen;
      this.server = createLinkServer(
        this.security,
        this.options.handshakeTimeoutMs,
        (socket, who) => void this.open(socket, false, who, null),
        (remote, why) => {
          this.refused++;
          this.options.logger.warn('peer refused: authentication failed', { remote, reason: why });
        },
      );
      await new Promise<void>((resolve, reject) => {
        this.server!.server.once('error', reject);
        this.server!.server.listen(wanted, host, () => resolve());
      });
      port = (this.server.server.address() as net.AddressInfo).port;
      if (this.security.mode === 'plaintext') this.options.logger.warn('link listener is PLAINTEXT: peers are not authenticated and traffic is not encrypted', { host, port });
      this.options.logger.info('link listening', { host, port, security: this.security.mode });
    }
    for (const p of this.addresses.values()) {
      this.linkFor(p.node);
      void this.dial(p.node, 0);
    }
    this.heartbeat = setInterval(() => {
      for (const l of this.links.values()) l.heartbeat(this.options.deadAfterMs);
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
    return port;
  }

  /**
   * A reload: peers added are dialed, peers removed are closed (their names withdrawn), and
   * new keys or a new secret serve the connections that come next. Links to peers that stay
   * keep their connection and session. Changing how links are secured is a restart's job.
   */
  reconfigure(peers: PeerAddress[], security: LinkSecurity): { added: string[]; removed: string[] } {
    if (security.mode !== this.security.mode) throw new ConfigError('security', `links are secured by ${this.security.mode}; switching to ${security.mode} needs a restart`);
    this.security = security;
    this.server?.rotate(security);
    const wanted = new Map(peers.map((p) => [checkName(p.node, 'peer node name'), p]));
    const removed = [...this.addresses.keys()].filter((n) => !wanted.has(n));
    const added = [...wanted.keys()].filter((n) => !this.addresses.has(n));
    for (const node of removed) {
      this.addresses.delete(node);
      const link = this.links.get(node);
      if (!link) continue;
      this.links.delete(node);
      link.close();
      this.parts.directory.peerGone(link);
    }
    for (const [node, p] of wanted) this.addresses.set(node, p);
    for (const node of added) {
      this.linkFor(node);
      void this.dial(node, 0);
    }
    this.parts.linksChanged();
    return { added, removed };
  }

  /** The peers this proxy was configured to dial. */
  configured(): string[] {
    return [...this.addresses.keys()];
  }

  link(node: string): Link | undefined {
    return this.links.get(node);
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.server?.server.close();
    for (const l of this.links.values()) l.close();
  }

  /** The local names changed: every peer hears the new snapshot, once per turn however many changed. */
  namesChanged(): void {
    if (this.announceScheduled) return;
    this.announceScheduled = true;
    setImmediate(() => {
      this.announceScheduled = false;
      const snapshot = this.parts.directory.localSnapshot();
      for (const l of this.links.values()) l.announce(snapshot);
    });
  }

  /** A link went up or down; one whose connection dropped is dialed again if we know where its peer is. */
  linkStateChanged(link: Link): void {
    this.parts.linksChanged();
    if (link.status.state === LinkState.RECONNECTING && !this.stopped && this.addresses.has(link.peer)) void this.dial(link.peer, 0);
  }

  private get maxFrame(): number {
    return this.options.maxMessageBytes + 1024;
  }

  private linkFor(node: string): Link {
    let l = this.links.get(node);
    if (!l) {
      l = new Link({ ...this.options, peerNode: node }, { ...this.parts, state: this });
      this.links.set(node, l);
    }
    return l;
  }

  private async dial(node: string, attempt: number): Promise<void> {
    const addr = this.addresses.get(node);
    // Stopped, already dialing, or no longer a peer (a reload removed it).
    if (this.stopped || this.dialing.has(node) || !addr) return;
    const link = this.linkFor(node);
    if (link.isUp) return;
    this.dialing.add(node);
    try {
      const { socket, who } = await dialLink(this.security, addr.host, addr.port, this.options.localNode, node, this.options.handshakeTimeoutMs);
      if (this.stopped) return void socket.destroy();
      const hs = this.open(socket, true, who, node);
      hs.conn.write(encodeJson(LinkOp.HELLO, link.hello()));
      if (!(await hs.done)) throw new Error('the handshake did not complete');
      this.dialing.delete(node);
    } catch (err) {
      this.dialing.delete(node);
      if (this.stopped || link.isUp || !this.addresses.has(node)) return;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt) * (0.5 + Math.random());
      this.options.logger.info('dial failed; retrying', { peer: node, reason: (err as Error).message, inMs: Math.round(delay) });
      setTimeout(() => void this.dial(node, attempt + 1), delay).unref();
    }
  }

  /** Wraps an authenticated socket; its frames go to a Handshake until it is adopted. */
  private open(socket: net.Socket, outbound: boolean, who: PeerIdentity, expected: string | null): Handshake {
    const hs = new Handshake(this, expected);
    hs.conn = new Connection(socket, outbound, who, this.maxFrame, hs);
    const timer = setTimeout(() => {
      if (hs.conn.owner === hs) hs.conn.fail(new SlotlinkError(ErrorCode.LINK_PROTOCOL, `no HELLO within ${this.options.handshakeTimeoutMs} ms`));
    }, this.options.handshakeTimeoutMs);
    timer.unref();
    return hs;
  }

  /** @internal a connection failed before its HELLO was accepted. */
  refusedBeforeHello(conn: Connection, error: SlotlinkError): void {
    if (error.code !== ErrorCode.LINK_PROTOCOL) return; // already logged as refused
    this.refused++;
    this.options.logger.warn('peer refused', { remote: conn.remote, code: error.code, reason: error.message });
  }

  /** @internal a HELLO arrived on a connection not yet adopted. */
  hello(hs: Handshake, h: LinkHello): void {
    const conn = hs.conn;
    const refuse = (code: ErrorCode, message: string): void => {
      this.refused++;
      this.options.logger.warn('peer refused', { remote: conn.remote, code, reason: message });
      conn.fail(new SlotlinkError(code, message));
    };
    if (h.version !== LINK_PROTOCOL_VERSION) return refuse(ErrorCode.PROTOCOL_VERSION, `link protocol version ${JSON.stringify(h.version)} is not supported (this proxy speaks ${LINK_PROTOCOL_VERSION})`);
    try {
      checkName(h.node, 'node name');
    } catch (err) {
      return refuse(ErrorCode.LINK_PROTOCOL, (err as Error).message);
    }
    if (h.node === this.options.localNode) return refuse(ErrorCode.LINK_AUTH, `peer claims this proxy's own node name "${h.node}"`);
    if (hs.expected !== null && h.node !== hs.expected) return refuse(ErrorCode.LINK_AUTH, `dialed node "${hs.expected}" but it says it is "${h.node}"`);
    if (conn.who.node !== null && conn.who.node !== h.node) return refuse(ErrorCode.LINK_AUTH, `authenticated as "${conn.who.node}" but says it is "${h.node}"`);
    const link = this.linkFor(h.node);
    // One connection per peer: keep the one dialed by the node whose name sorts first.
    const first = this.options.localNode < h.node ? this.options.localNode : h.node;
    const preferred = (c: Connection) => (c.outbound ? this.options.localNode : h.node) === first;
    if (link.isUp && link.conn && !preferred(conn) && preferred(link.conn)) {
      return refuse(ErrorCode.LINK_PROTOCOL, `duplicate connection: keeping the one dialed by "${first}"`);
    }
    if (!conn.outbound) conn.write(encodeJson(LinkOp.HELLO, link.hello()));
    try {
      link.adopt(conn, h);
      hs.settle(true);
    } catch (err) {
      conn.fail(err as SlotlinkError);
    }
  }
}

/** Owns a connection from authentication until its HELLO is checked and a link adopts it. */
class Handshake implements ConnectionOwner {
  conn!: Connection;
  readonly done: Promise<boolean>;
  settle!: (adopted: boolean) => void;

  constructor(private readonly peers: Peers, readonly expected: string | null) {
    this.done = new Promise((r) => (this.settle = r));
  }

  data(): void {
    this.early('DATA');
  }
  ack(): void {
    this.early('ACK');
  }
  credit(): void {
    this.early('CREDIT');
  }
  wanted(): void {
    this.early('WANTED');
  }
  ping(): void {
    this.early('PING');
  }
  json(op: number, body: unknown): void {
    if (op === LinkOp.HELLO) return this.peers.hello(this, body as LinkHello);
    if (op === LinkOp.ERROR) return; // the peer refused us; it closes next
    this.early(`op ${op}`);
  }
  closed(conn: Connection, error: SlotlinkError | null): void {
    if (error) this.peers.refusedBeforeHello(conn, error);
    this.settle(false);
  }

  private early(what: string): never {
    throw new SlotlinkError(ErrorCode.LINK_PROTOCOL, `${what} frame before HELLO`);
  }
}
