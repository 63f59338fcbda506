/** The proxy's record of one registered process: its slot, mailbox, name and credentials. */
import { addressBytes } from '../slot/address.js';
import { Gate, type Pausable } from '../util/gate.js';
import type { Mailbox } from '../slot/mailbox.js';
import { AwaitedReplies } from './awaited-replies.js';
import { OpenRequests } from './open-requests.js';
import type { Credentials, RegistrationConnection } from './registration-connection.js';
import type { RequestRoundTrips } from './request-round-trips.js';

export class RegisteredProcess implements Pausable {
  readonly addressBytes: Uint8Array;
  /** Where sources wait while this slot's queue is over its limit; it opens when the queue drains. */
  readonly queueGate = new Gate();
  /** Requests this process received and has not answered yet. */
  readonly openRequests: OpenRequests<RegisteredProcess>;
  /** Requests this process sent over links and has no answer to yet. */
  readonly awaiting: AwaitedReplies;
  /** Times this slot's own reading was paused because a receiver was full. */
  backPressureWaits = 0;
  mailbox!: Mailbox;
  closed = false;
  /** Resolves when the process says it has committed everything (at shutdown). */
  flushed: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly generation: number,
    readonly name: string,
    readonly group: boolean,
    /** `name~id.generation@node`: this process and no other. */
    readonly address: string,
    readonly credentials: Credentials,
    /** Its registration connection: open for as long as the process lives. */
    readonly control: RegistrationConnection<RegisteredProcess>,
    /** Where the round trips of requests answered by it, and of its requests over links, are timed. */
    roundTrips: RequestRoundTrips,
  ) {
    this.addressBytes = addressBytes(address);
    this.openRequests = new OpenRequests(name, roundTrips);
    this.awaiting = new AwaitedReplies(roundTrips);
  }

  /** Stops reading this slot (a receiver it feeds is full); counted. */
  pause(): void {
    this.mailbox.pauseReading();
    this.backPressureWaits++;
  }

  resume(): void {
    this.mailbox.resumeReading();
  }

  /** `id.generation`, the instance part of the address. */
  get instance(): string {
    return `${this.id}.${this.generation}`;
  }
}
