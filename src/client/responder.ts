/**
 * The application's respond() handler: runs it for each request, makes its result the
 * reply (a thrown error an error reply), and counts the requests in hand, so drain() can
 * wait until each has been answered and its answer is in the slot.
 */
import type { Message, Payload } from './message.js';

export type RequestHandler = (request: Message) => Payload | void | Promise<Payload | void>;

const EMPTY = new Uint8Array(0);

export class Responder {
  handler: RequestHandler | null = null;
  /** Requests handed to the handler and not yet answered. */
  private inHand = 0;
  private readonly idleWaiters: Array<() => void> = [];

  /** Answers `msg` with the handler (which must be set). */
  answer(msg: Message): void {
    this.inHand++;
    let result;
    try {
      result = this.handler!(msg);
    } catch (err) {
      this.settled(Promise.resolve().then(() => msg.fail(errorText(err))));
      return;
    }
    this.settled(
      Promise.resolve(result).then(
        (value) => msg.reply(value ?? EMPTY),
        (err) => msg.fail(errorText(err)),
      ),
    );
  }

  /** Resolves once every request handed to the handler so far has its answer in the slot (or failed to). */
  idle(): Promise<void> {
    if (this.inHand === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settled(answered: Promise<void>): void {
    answered
      .catch(() => {}) // the endpoint closed meanwhile, or the registration the request came by ended
      .finally(() => {
        if (--this.inHand === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
