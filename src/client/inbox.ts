/**
 * Messages an endpoint received and its application has not taken yet, in arrival order, for
 * its async iterator. Past a bound the endpoint stops reading its slot (the proxy then holds
 * the senders back); it reads again once the application has taken half. While the endpoint
 * waits for answers it reads regardless, or no answer could reach it. What a blocking
 * subscription holds counts against the same bound (hold/release).
 */
import type { Pausable } from '../util/gate.js';
import type { Message } from './message.js';

export class Inbox {
  /** Payload bytes held. */
  bytes = 0;
  private readonly held: Message[] = [];
  private head = 0;
  private readonly pullers: Array<(r: IteratorResult<Message>) => void> = [];
  private paused = false;
  private ended = false;

  constructor(private readonly reading: Pausable, private readonly maxBytes: number, private readonly awaitingAnswers: () => boolean) {}

  /** A message arrived: to a waiting iterator, or held. */
  put(msg: Message): void {
    const puller = this.pullers.shift();
    if (puller) return puller({ value: msg, done: false });
    this.held.push(msg);
    this.hold(msg.data.length);
  }

  /** `n` more bytes are held for the application; past the bound, the slot is no longer read. */
  hold(n: number): void {
    this.bytes += n;
    if (this.bytes > this.maxBytes && !this.paused && !this.awaitingAnswers()) {
      this.paused = true;
      this.reading.pause();
    }
  }

  /** The application took `n` bytes; once half the bound is free, the slot is read again. */
  release(n: number): void {
    this.bytes -= n;
    if (this.paused && this.bytes <= this.maxBytes / 2) this.resumeReading();
  }

  /** The next message, waiting for one; done once the endpoint has ended and all are taken. */
  next(): Promise<IteratorResult<Message>> {
    const m = this.take();
    if (m) return Promise.resolve({ value: m, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.pullers.push(resolve));
  }

  /** A request is about to wait for its answer: read whatever the bound says. */
  awaitingAnswer(): void {
    if (this.paused) this.resumeReading();
  }

  /** No more will come: waiting iterators end (what is held can still be taken). */
  end(): void {
    this.ended = true;
    for (const p of this.pullers.splice(0)) p({ value: undefined, done: true });
  }

  private take(): Message | null {
    if (this.head >= this.held.length) return null;
    const m = this.held[this.head]!;
    this.held[this.head++] = undefined as unknown as Message;
    if (this.head === this.held.length) {
      this.held.length = 0;
      this.head = 0;
    }
    this.release(m.data.length);
    return m;
  }

  private resumeReading(): void {
    this.paused = false;
    this.reading.resume();
  }
}
