/**
 * Every error slotlink raises: a class per failure with a stable `code`
 * (`SLOTLINK_ERR_*`), the underlying error kept as `cause`, and a message that says
 * what was wrong and what to do.
 */

export const ErrorCode = {
  SYSCALL: 'SLOTLINK_ERR_SYSCALL',
  PROXY_UNAVAILABLE: 'SLOTLINK_ERR_PROXY_UNAVAILABLE',
  SOCKET_IN_USE: 'SLOTLINK_ERR_SOCKET_IN_USE',
  UNSAFE_SOCKET_DIRECTORY: 'SLOTLINK_ERR_UNSAFE_SOCKET_DIRECTORY',
  NAME_TAKEN: 'SLOTLINK_ERR_NAME_TAKEN',
  INVALID_NAME: 'SLOTLINK_ERR_INVALID_NAME',
  INVALID_ADDRESS: 'SLOTLINK_ERR_INVALID_ADDRESS',
  INVALID_SUBJECT: 'SLOTLINK_ERR_INVALID_SUBJECT',
  TOO_MANY_SUBSCRIPTIONS: 'SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS',
  PROTOCOL_VERSION: 'SLOTLINK_ERR_PROTOCOL_VERSION',
  PROXY_FULL: 'SLOTLINK_ERR_PROXY_FULL',
  NOT_PERMITTED: 'SLOTLINK_ERR_NOT_PERMITTED',
  REGISTRATION: 'SLOTLINK_ERR_REGISTRATION',
  BAD_SLOT: 'SLOTLINK_ERR_BAD_SLOT',
  BAD_RECORD: 'SLOTLINK_ERR_BAD_RECORD',
  MESSAGE_TOO_LARGE: 'SLOTLINK_ERR_MESSAGE_TOO_LARGE',
  NO_ROUTE: 'SLOTLINK_ERR_NO_ROUTE',
  RECEIVER_GONE: 'SLOTLINK_ERR_RECEIVER_GONE',
  UNEXPECTED_REPLY: 'SLOTLINK_ERR_UNEXPECTED_REPLY',
  TOO_MANY_REQUESTS: 'SLOTLINK_ERR_TOO_MANY_REQUESTS',
  REQUEST_TIMEOUT: 'SLOTLINK_ERR_REQUEST_TIMEOUT',
  ABORTED: 'SLOTLINK_ERR_ABORTED',
  REMOTE: 'SLOTLINK_ERR_REMOTE',
  BACKPRESSURE: 'SLOTLINK_ERR_BACKPRESSURE',
  CLOSED: 'SLOTLINK_ERR_CLOSED',
  DISCONNECTED: 'SLOTLINK_ERR_DISCONNECTED',
  PROXY_SHUTDOWN: 'SLOTLINK_ERR_PROXY_SHUTDOWN',
  CONFIG: 'SLOTLINK_ERR_CONFIG',
  LINK_PROTOCOL: 'SLOTLINK_ERR_LINK_PROTOCOL',
  LINK_AUTH: 'SLOTLINK_ERR_LINK_AUTH',
  PEER_RESTARTED: 'SLOTLINK_ERR_PEER_RESTARTED',
  UNREACHABLE: 'SLOTLINK_ERR_UNREACHABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class SlotlinkError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  /** Plain form, for the control socket and for ERROR records. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A system call made by the addon failed; `errno`/`syscall` say which and why. */
export class SyscallError extends SlotlinkError {
  readonly errno: number;
  readonly syscall: string;
  constructor(what: string, cause: unknown) {
    const c = cause as { errno?: number; syscall?: string; message?: string };
    super(ErrorCode.SYSCALL, `${what}: ${c?.message ?? String(cause)}`, { cause });
    this.errno = c?.errno ?? 0;
    this.syscall = c?.syscall ?? 'unknown';
  }
}

export class ProxyUnavailableError extends SlotlinkError {
  constructor(socketPath: string, cause?: unknown) {
    super(ErrorCode.PROXY_UNAVAILABLE, `no slotlink proxy is listening at ${socketPath}: start one with \`slotlink proxy --socket ${socketPath}\` or pass the right socket path`, { cause });
  }
}

export class SocketInUseError extends SlotlinkError {
  constructor(socketPath: string) {
    super(ErrorCode.SOCKET_IN_USE, `another proxy is already serving ${socketPath}: stop it first or choose another --socket path`);
  }
}

/** The registration socket's directory could let another user swap the socket. */
export class UnsafeSocketDirectoryError extends SlotlinkError {
  constructor(dir: string, why: string) {
    super(ErrorCode.UNSAFE_SOCKET_DIRECTORY, `refusing socket directory ${dir}: ${why}`);
  }
}

export class NameTakenError extends SlotlinkError {
  constructor(name: string) {
    super(ErrorCode.NAME_TAKEN, `the name "${name}" is already registered on this proxy: pick another name, or register every member with { group: true } to share it`);
  }
}

export class InvalidNameError extends SlotlinkError {
  constructor(name: unknown, why: string) {
    super(ErrorCode.INVALID_NAME, `invalid name ${JSON.stringify(name)}: ${why}`);
  }
}

export class InvalidAddressError extends SlotlinkError {
  constructor(address: unknown, why: string) {
    super(ErrorCode.INVALID_ADDRESS, `invalid address ${JSON.stringify(address)}: ${why} (expected "name" or "name@node")`);
  }
}

export class InvalidSubjectError extends SlotlinkError {
  constructor(subject: unknown, why: string) {
    super(ErrorCode.INVALID_SUBJECT, `invalid subject ${JSON.stringify(subject)}: ${why} (expected tokens separated by dots, like "prices.eu.fr"; subscriptions may use "*" for one token and a last ">" for the rest)`);
  }
}

export class TooManySubscriptionsError extends SlotlinkError {
  constructor(max: number) {
    super(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `this process holds ${max} subscriptions, the most a process may: unsubscribe some, or subscribe with wildcards`);
  }
}

export class ProtocolVersionError extends SlotlinkError {
  constructor(got: unknown, supported: number) {
    super(ErrorCode.PROTOCOL_VERSION, `protocol version ${JSON.stringify(got)} is not supported (this proxy speaks version ${supported}): upgrade the client or the proxy so they match`);
  }
}

export class ProxyFullError extends SlotlinkError {
  constructor(maxSlots: number) {
    super(ErrorCode.PROXY_FULL, `the proxy already serves its maximum of ${maxSlots} slots: raise --max-slots or close idle processes`);
  }
}

export class NotPermittedError extends SlotlinkError {
  constructor(why: string) {
    super(ErrorCode.NOT_PERMITTED, why);
  }
}

export class RegistrationError extends SlotlinkError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.REGISTRATION, message, { cause });
  }
}

/** The slot's shared memory holds something the layout does not allow. */
export class BadSlotError extends SlotlinkError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.BAD_SLOT, message, { cause });
  }
}

/** A record in a cell is malformed; the message names the field, its value and the limit. */
export class BadRecordError extends SlotlinkError {
  constructor(message: string) {
    super(ErrorCode.BAD_RECORD, message);
  }
}

export class MessageTooLargeError extends SlotlinkError {
  constructor(bytes: number, max: number) {
    super(ErrorCode.MESSAGE_TOO_LARGE, `message of ${bytes} bytes exceeds the maximum of ${max} bytes: split it, or raise --max-message-bytes on the proxy`);
  }
}

export class RequestTimeoutError extends SlotlinkError {
  constructor(address: string, ms: number) {
    super(ErrorCode.REQUEST_TIMEOUT, `request to "${address}" got no reply within ${ms} ms`);
  }
}

export class AbortedError extends SlotlinkError {
  constructor(reason?: unknown) {
    super(ErrorCode.ABORTED, 'the operation was aborted', { cause: reason });
  }
}

export class BackPressureError extends SlotlinkError {
  constructor(pending: number, max: number) {
    super(ErrorCode.BACKPRESSURE, `${pending} bytes are already waiting for the slot (limit ${max}): await send() or endpoint.writable() before sending more`);
  }
}

export class ClosedError extends SlotlinkError {
  constructor(what: string, cause?: unknown) {
    super(ErrorCode.CLOSED, `${what} is closed`, { cause });
  }
}

/**
 * The connection to the proxy was lost (it crashed, restarted, or shut down) while something
 * waited on it; the message says what was lost and what to do. The endpoint itself registers
 * again unless it was connected with `reconnect: false`; this error is for what could not
 * wait for that (or waited longer than `outageWaitMs`).
 */
export class DisconnectedError extends SlotlinkError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.DISCONNECTED, message, { cause });
  }
}

export class ConfigError extends SlotlinkError {
  constructor(key: string, why: string) {
    super(ErrorCode.CONFIG, `config "${key}": ${why}`);
  }
}

/** An error that arrived over the wire: keeps the sender's code. */
export class RemoteError extends SlotlinkError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/** A peer broke the link protocol; the message names the frame, the field and the value. */
export class LinkProtocolError extends SlotlinkError {
  constructor(message: string) {
    super(ErrorCode.LINK_PROTOCOL, message);
  }
}

/** Rebuilds a typed error from its `{ code, message }` form. */
export function errorFromWire(code: string, message: string): SlotlinkError {
  const known = (Object.values(ErrorCode) as string[]).includes(code) ? (code as ErrorCode) : ErrorCode.REMOTE;
  return new RemoteError(known, message);
}
