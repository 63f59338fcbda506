/**
 * Liveness: heartbeats and round trips on a link's connection, and the clock that declares a
 * peer unreachable when it has been away too long. It tells its owner through a small
 * interface and knows nothing else of the link.
 */
import type { Connection } from './connection.js';
import { LinkOp, encodePing } from './frame.js';

/** What liveness needs from the link it watches. */
export interface LivenessOwner {
  /** The connection went silent: drop it. */
  silent(conn: Connection, forMs: number): void;
  /** Away for the whole allowance: the peer is unreachable now. */
  unreachable(): void;
}

/** A PING is not answered while this much waits to be written to the peer: a peer that never reads cannot grow it. */
const PONG_BACKLOG_BYTES = 1024 * 1024;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class Liveness {
  /** Last heartbeat round trip, ms (null until one came back). */
  rttMs: number | null = null;
  /** PINGs left unanswered because the peer was not reading what this side wrote. */
  pongsSkipped = 0;
  private unreachableTimer: NodeJS.Timeout | null = null;

  constructor(private readonly owner: LivenessOwner, private readonly unreachableAfterMs: number) {}

  /** A heartbeat tick on `conn`: a PING, or, after `deadAfterMs` of silence, the end of it. */
  tick(conn: Connection, deadAfterMs: number): void {
    const silentMs = Date.now() - conn.lastHeard;
    if (silentMs > deadAfterMs) return this.owner.silent(conn, silentMs);
    conn.write(encodePing(LinkOp.PING, now()));
  }

  /** A PING or PONG arrived on `conn`. */
  ping(conn: Connection | null, op: number, time: number): void {
    if (op !== LinkOp.PING) return void (this.rttMs = now() - time);
    if (!conn) return;
    if (conn.socket.writableLength > PONG_BACKLOG_BYTES) return void this.pongsSkipped++;
    conn.write(encodePing(LinkOp.PONG, time));
  }

  /** The peer is away from now: unreachable unless it is back within the allowance. */
  away(): void {
    this.back();
    this.unreachableTimer = setTimeout(() => {
      this.unreachableTimer = null;
      this.owner.unreachable();
    }, this.unreachableAfterMs);
    this.unreachableTimer.unref();
  }

  /** The peer is back (or the link closes): no verdict is pending. */
  back(): void {
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.unreachableTimer = null;
  }
}
