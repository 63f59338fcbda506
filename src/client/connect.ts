/** connect(): register with the local proxy and get an endpoint on a private slot. */
import { ConfigError } from '../errors.js';
import { checkName } from '../slot/address.js';
import { CLIENT_DEFAULTS as D, defaultSocketPath } from '../contract/defaults.js';
import { Attachment } from './attachment.js';
import { Endpoint } from './endpoint.js';

/** Each default's value is in CLIENT_DEFAULTS (src/contract/defaults.ts); the figures below repeat it. */
export interface ConnectOptions {
  /** The name others address this process by: `name` or `name@node`. */
  name: string;
  /** Register as one member of a group sharing `name`; requests are balanced over members. */
  group?: boolean;
  /** The proxy's registration socket. Default: $SLOTLINK_SOCKET or the per-user default. */
  socket?: string;
  /** Milliseconds to wait for the proxy to answer a registration. Default 10 000. */
  timeout?: number;
  /** Bytes send() may queue behind a full slot, or hold during an outage. Default 64 MiB. */
  maxPendingBytes?: number;
  /** Bytes of unread messages held before the slot stops being read. Default 16 MiB. */
  maxInboxBytes?: number;
  /**
   * When the connection to the proxy is lost (it crashed, restarted or shut down), register
   * again under the same name and go on at a new address; false: the endpoint closes.
   * Default true. Requests waiting for answers then fail with SLOTLINK_ERR_DISCONNECTED; what
   * was in the old slot is lost with the old proxy; what was queued behind it, and what is
   * sent meanwhile, goes into the new slot.
   */
  reconnect?: boolean;
  /** Milliseconds before the first attempt to register again, doubled after each failure (±50 % jitter). Default 100. */
  reconnectDelayMs?: number;
  /** Longest wait between two attempts. Default 5000. */
  maxReconnectDelayMs?: number;
  /** Attempts before the endpoint gives up and closes with SLOTLINK_ERR_DISCONNECTED. Default unlimited. */
  maxReconnectAttempts?: number;
  /** Milliseconds sends, requests, writable() and flush() wait for the proxy during an outage before they reject with SLOTLINK_ERR_DISCONNECTED. Default 10 000. */
  outageWaitMs?: number;
}

/**
 * Registers this process with its proxy under `name` and returns its endpoint.
 * Rejects with ProxyUnavailableError, NameTakenError, ProxyFullError, ProtocolVersionError...
 */
export async function connect(options: ConnectOptions): Promise<Endpoint> {
  const name = checkName(options.name);
  const socketPath = options.socket ?? defaultSocketPath();
  const group = options.group === true;
  const timeout = positive(options, 'timeout', D.timeoutMs);
  const settings = {
    maxPendingBytes: positive(options, 'maxPendingBytes', D.maxPendingBytes),
    maxInboxBytes: positive(options, 'maxInboxBytes', D.maxInboxBytes),
    outageWaitMs: positive(options, 'outageWaitMs', D.outageWaitMs),
    requestTimeoutMs: D.requestTimeoutMs,
    statusEvents: D.statusEvents,
  };
  const policy = {
    delayMs: positive(options, 'reconnectDelayMs', D.reconnectDelayMs),
    maxDelayMs: positive(options, 'maxReconnectDelayMs', D.maxReconnectDelayMs),
    maxAttempts: positive(options, 'maxReconnectAttempts', D.maxReconnectAttempts),
  };
  const open = () => Attachment.open(socketPath, name, group, timeout);
  const first = await open();
  return new Endpoint(first, settings, (options.reconnect ?? D.reconnect) ? { open, policy, socketPath } : null);
}

type NumericOption = 'timeout' | 'maxPendingBytes' | 'maxInboxBytes' | 'reconnectDelayMs' | 'maxReconnectDelayMs' | 'maxReconnectAttempts' | 'outageWaitMs';

/** The option's value, or its default; a positive number (Infinity only for the attempts). */
function positive(options: ConnectOptions, key: NumericOption, fallback: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || (!Number.isFinite(v) && key !== 'maxReconnectAttempts'))
    throw new ConfigError(key, `expected a positive number, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}
