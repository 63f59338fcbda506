/**
 * Credit: how a receiving proxy bounds what each destination, and each peer as a whole, may
 * have in flight towards it (docs/protocol.md §5). Counted in credit units: a message costs
 * its payload bytes plus CREDIT_PER_MESSAGE, so a stream of empty messages is bounded too.
 * Limits are absolute ("you may have sent up to unit N to this destination"), so sending a
 * grant again after a reconnect is harmless; DATA frames carry the destination's offset, so
 * either side may forget a destination that has nothing in flight without the other's help.
 */
import type { RecordKind } from '../slot/record.js';
import type { Pausable } from '../util/gate.js';

/**
 * What each message costs on top of its payload bytes. Measured: 64 halved the small
 * messages a window holds and cost ~20 % of 64 B stream throughput; 32 costs ~5 %
 * (docs/benchmarks.md).
 */
export const CREDIT_PER_MESSAGE = 32;

/** Destinations that may have unconsumed units at once, per peer; a sender keeps below it, a receiver enforces it. */
export const MAX_OUTSTANDING_KEYS = 65_536;

/** Ledgers kept before the ones with nothing in flight are forgotten (by a sweep soon after). */
export const LEDGER_SWEEP_AT = 4096;
/** How soon a sweep follows once there are more ledgers than that: ledgers settle as grants arrive. */
export const LEDGER_SWEEP_DELAY_MS = 100;

/** Runs `sweep` soon, once, whenever `size()` passes LEDGER_SWEEP_AT. */
export class Sweeper {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly size: () => number, private readonly sweep: () => void) {}

  /** Something was added or settled: a sweep may be due. */
  note(): void {
    if (this.timer || this.size() <= LEDGER_SWEEP_AT) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sweep();
    }, LEDGER_SWEEP_DELAY_MS);
    this.timer.unref();
  }
}

export function creditCost(payloadBytes: number): number {
  return payloadBytes + CREDIT_PER_MESSAGE;
}

/** A message waiting for credit; its payload is a range of the cell copy it came from. */
export interface Waiting {
  from: Uint8Array;
  /** The source it was read from (paused while it waits), or null for the proxy's own answers. */
  src: Pausable | null;
  kind: RecordKind;
  requestId: number;
  payload: Uint8Array;
  start: number;
  end: number;
  /** Runs once the message is written to the link (an answer's question is consumed then). */
  onSent: (() => void) | null;
}
