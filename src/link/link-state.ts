/** What a link is made with and what it reports: its options, states and counters. */
import type { Logger } from '../log.js';

export const LinkState = {
  CONNECTING: 'connecting',
  UP: 'up',
  RECONNECTING: 'reconnecting',
  DOWN: 'down',
  CLOSED: 'closed',
} as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

export type LinkStatus =
  | { state: 'connecting'; since: number }
  | { state: 'up'; since: number; remote: string; outbound: boolean }
  | { state: 'reconnecting'; since: number; lastError: string | null }
  | { state: 'down'; since: number; lastError: string | null }
  | { state: 'closed'; since: number };

export interface LinkOptions {
  localNode: string;
  peerNode: string;
  incarnation: string;
  creditWindow: number;
  /** Credit units this side lets its peer have unconsumed, and sends at most unconsumed to it. */
  maxUnackedBytes: number;
  maxMessageBytes: number;
  /** A link not up for this long is "down": sends to it fail at once. */
  unreachableAfterMs: number;
  logger: Logger;
}

export interface LinkCounters {
  /** Messages sent and received (carried in DATA frames, several to a frame), and their payload bytes. */
  messagesOut: number;
  messagesIn: number;
  bytesOut: number;
  bytesIn: number;
  retransmittedFrames: number;
  duplicatesDropped: number;
  reconnects: number;
  creditStalls: number;
  /** Requests and answers of a stream with nothing waiting that left at once, past bulk waiting on the link (link.ts mayExpress). */
  messagesExpressed: number;
  peerRestarts: number;
}

