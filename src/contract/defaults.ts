/** Defaults shared by the proxy, the client and the CLI. */
import os from 'node:os';
import { join } from 'node:path';

/** $SLOTLINK_SOCKET, else a per-user path under the temp directory. */
export function defaultSocketPath(): string {
  return process.env.SLOTLINK_SOCKET || join(os.tmpdir(), `slotlink-${process.getuid?.() ?? 0}`, 'proxy.sock');
}

/** The host name, reduced to the characters a node name may hold. */
export function defaultNodeName(): string {
  const cleaned = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned || 'node';
}

/**
 * The Node client's defaults (src/client/connect.ts documents each option): the one place
 * their values live.
 */
export const CLIENT_DEFAULTS = {
  /** Milliseconds to wait for the proxy to answer a registration. */
  timeoutMs: 10_000,
  /** Bytes send() may queue behind a full slot (or during an outage) before it refuses. */
  maxPendingBytes: 64 * 1024 * 1024,
  /** Bytes of unread messages held before the slot stops being read. */
  maxInboxBytes: 16 * 1024 * 1024,
  /** Milliseconds request() waits for its answer. */
  requestTimeoutMs: 30_000,
  /** Register again when the connection to the proxy is lost. */
  reconnect: true,
  /** Milliseconds before the first attempt to register again; doubled after each failure. */
  reconnectDelayMs: 100,
  /** Longest wait between two attempts. */
  maxReconnectDelayMs: 5_000,
  /** Attempts before giving up. */
  maxReconnectAttempts: Infinity,
  /** Milliseconds sends, requests, writable() and flush() wait for the proxy during an outage. */
  outageWaitMs: 10_000,
  /** Status events one status() iterator holds for a reader that does not keep up. */
  statusEvents: 1024,
} as const;
