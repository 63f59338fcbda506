/**
 * Registering again after a registration ended: attempts, each after its backoff delay
 * (reconnect-policy.ts), until one succeeds, a refusal says no attempt can, the attempts run
 * out, or the endpoint stops it (close()). One run at a time; the endpoint starts another
 * when the registration it got ends too.
 */
import { DisconnectedError, SlotlinkError } from '../errors.js';
import type { Attachment } from './attachment.js';
import { reconnectDelay, worthRetrying, type ReconnectPolicy } from './reconnect-policy.js';

export interface ReconnectListener {
  /** Attempt `attempt` (1, 2, ...) is due in `delayMs`. */
  reconnecting(attempt: number, delayMs: number): void;
  /** An attempt succeeded: the new registration, not started yet. */
  attached(attachment: Attachment): void;
  /** No attempt will: a refusal that cannot mend, or the last attempt failed. */
  gaveUp(error: SlotlinkError): void;
}

export class Reconnector {
  private attempt = 0;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  /** Counts stops, so an attempt that returns after one knows it is no longer wanted. */
  private runId = 0;

  constructor(
    private readonly open: () => Promise<Attachment>,
    private readonly policy: ReconnectPolicy,
    private readonly listener: ReconnectListener,
    /** For what the error says when attempts run out. */
    private readonly socketPath: string,
  ) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.next(null);
  }

  /** No more attempts; one under way is undone when it returns. */
  stop(): void {
    this.running = false;
    this.runId++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private next(lastError: unknown): void {
    if (this.attempt >= this.policy.maxAttempts) {
      this.running = false;
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      return this.listener.gaveUp(new DisconnectedError(`gave up registering again with the proxy at ${this.socketPath} after ${this.attempt} attempts (maxReconnectAttempts)${why}`, lastError));
    }
    const delay = reconnectDelay(this.policy, ++this.attempt);
    this.listener.reconnecting(this.attempt, delay);
    const run = this.runId;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.try(run);
    }, delay);
  }

  private async try(run: number): Promise<void> {
    let attachment: Attachment;
    try {
      attachment = await this.open();
    } catch (err) {
      if (run !== this.runId) return;
      if (worthRetrying(err)) return this.next(err);
      this.running = false;
      return this.listener.gaveUp(err instanceof SlotlinkError ? err : new DisconnectedError(String(err), err));
    }
    if (run !== this.runId) return attachment.abandon();
    this.running = false;
    this.listener.attached(attachment);
  }
}
