/**
 * When an endpoint registers again, and when it stops trying: the delay before each
 * attempt (exponential backoff with jitter, so processes that lost one proxy do not all
 * come back at the same instant), and the errors that no number of attempts can mend.
 */
import { ErrorCode, type SlotlinkError } from '../errors.js';

export interface ReconnectPolicy {
  /** Before the first attempt; doubled after each failed one. */
  delayMs: number;
  /** The doubling stops here. */
  maxDelayMs: number;
  /** Attempts before giving up (Infinity: never). */
  maxAttempts: number;
}

/** Each delay is the nominal one times a factor drawn from [1 - JITTER, 1 + JITTER). */
const JITTER = 0.5;

/** Milliseconds to wait before attempt `attempt` (1, 2, ...); `random` gives [0, 1). */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.min(attempt - 1, 52));
  return Math.round(nominal * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * Refusals a proxy will repeat to every attempt: the name, the user or the protocol is
 * wrong. Everything else (no proxy listening yet, the name still held by the registration
 * that just ended, a full or stopping proxy, a slow answer) may mend, so the endpoint tries again.
 */
const HOPELESS_REFUSALS: ReadonlySet<string> = new Set([ErrorCode.INVALID_NAME, ErrorCode.NOT_PERMITTED, ErrorCode.PROTOCOL_VERSION]);

/**
 * Reasons a registration ended that registering again would only hide: the slot held what
 * the layout forbids, or the process sent a control frame the protocol forbids (a malformed
 * subscribe), so this process (or the proxy) is broken; and the hopeless refusals.
 */
const FINAL_ENDS: ReadonlySet<string> = new Set([...HOPELESS_REFUSALS, ErrorCode.BAD_SLOT, ErrorCode.BAD_RECORD, ErrorCode.REGISTRATION]);

/** Whether a failed attempt to register is worth repeating. */
export function worthRetrying(error: unknown): boolean {
  return !HOPELESS_REFUSALS.has((error as SlotlinkError | null)?.code ?? '');
}

/** Whether a registration that ended for `reason` (null: the connection just closed) may be made again. */
export function endIsFinal(reason: SlotlinkError | null): boolean {
  return reason !== null && FINAL_ENDS.has(reason.code);
}
