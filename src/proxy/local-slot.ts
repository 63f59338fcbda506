/** The proxy's record of one registered process: its slot, mailbox, name and credentials. */
import { addressBytes } from '../address.js';
import type { Mailbox } from '../slot/mailbox.js';
import { AwaitedReplies } from './awaited-replies.js';
import { OpenRequests } from './open-requests.js';
import type { RegistrationConnection } from './registration-server.js';

export interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

export class LocalSlot {
  readonly addressBytes: Uint8Array;
  /** Sources paused because this slot's queue was over its limit; resumed when it drains. */
  readonly blockedSources = new Set<LocalSlot>();
  /** Requests this process received and has not answered yet. */
  readonly openRequests = new OpenRequests();
  /** Requests this process sent over links and has no answer to yet. */
  readonly awaiting = new AwaitedReplies();
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
    readonly control: RegistrationConnection,
  ) {
    this.addressBytes = addressBytes(address);
  }

  /**
   * Stops reading this slot until `waiters` is released: the receiver it feeds (a local
   * slot's queue, or a remote destination's credit) is full. False if already held there.
   */
  holdFor(waiters: Set<LocalSlot>): boolean {
    if (waiters.has(this)) return false;
    waiters.add(this);
    this.mailbox.pauseReading();
    this.backPressureWaits++;
    return true;
  }

  /** The receiver drained: every slot held for it reads again. */
  static release(waiters: Set<LocalSlot>): void {
    for (const s of waiters) s.mailbox.resumeReading();
    waiters.clear();
  }

  /** `id.generation`, the instance part of the address. */
  get instance(): string {
    return `${this.id}.${this.generation}`;
  }
}
