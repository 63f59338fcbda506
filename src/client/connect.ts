/** connect(): register with the local proxy and get an endpoint on a private slot. */
import { checkName } from '../slot/address.js';
import { defaultSocketPath } from '../contract/defaults.js';
import { PROTOCOL_VERSION, ControlOp } from '../contract/registration.js';
import { Slot } from '../slot/slot.js';
import { Endpoint } from './endpoint.js';
import { register } from './registration.js';

export interface ConnectOptions {
  /** The name others address this process by: `name` or `name@node`. */
  name: string;
  /** Register as one member of a group sharing `name`; requests are balanced over members. */
  group?: boolean;
  /** The proxy's registration socket. Default: $SLOTLINK_SOCKET or the per-user default. */
  socket?: string;
  /** Milliseconds to wait for the proxy to answer. Default 10 000. */
  timeout?: number;
  /** Bytes send() may queue behind a full slot. Default 64 MiB. */
  maxPendingBytes?: number;
  /** Bytes of unread messages held before the slot stops being read. Default 16 MiB. */
  maxInboxBytes?: number;
}

/**
 * Registers this process with its proxy under `name` and returns its endpoint.
 * Rejects with ProxyUnavailableError, NameTakenError, ProxyFullError, ProtocolVersionError...
 */
export async function connect(options: ConnectOptions): Promise<Endpoint> {
  const name = checkName(options.name);
  const socketPath = options.socket ?? defaultSocketPath();
  const reg = await register(socketPath, { op: ControlOp.HELLO, version: PROTOCOL_VERSION, name, group: options.group === true }, options.timeout ?? 10_000);
  let slot: Slot;
  try {
    slot = Slot.attach(reg.fds[0], reg.fds[1], reg.fds[2], reg.welcome.layout);
  } catch (err) {
    reg.socket.destroy();
    throw err;
  }
  return new Endpoint(slot, reg.welcome, reg.socket, {
    maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
    maxInboxBytes: options.maxInboxBytes ?? 16 * 1024 * 1024,
  }, reg.more);
}
