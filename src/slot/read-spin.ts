/**
 * When a reader keeps looking at its slot instead of sleeping on its doorbell: for a short
 * window after a read, but only while messages have been coming faster than that window.
 * A sleeping reader costs its writer a doorbell ring and itself a wake-up (two kernel
 * round trips, and on a busy machine a wait for a CPU); a reader that looks again a few
 * microseconds later costs neither. So a process and its proxy asking each other in quick
 * succession answer without waking each other, while a slot that hears something now and
 * then sleeps as before and costs no CPU (Aeron's idle strategies spin, then yield, then
 * park, for the same reason). Times are in ms, as performance.now() gives them.
 */

/** How long a reader looks again before sleeping, and the gap between reads below which it does. */
export const SPIN_WINDOW_MS = 0.05;

export class ReadSpin {
  private lastRead = -Infinity;
  /** The last two reads were less than the window apart. */
  private quick = false;

  constructor(private readonly windowMs = SPIN_WINDOW_MS) {}

  /** Something was read at `now`. */
  read(now: number): void {
    this.quick = now - this.lastRead < this.windowMs;
    this.lastRead = now;
  }

  /** Whether the reader should look again rather than sleep, having found nothing at `now`. */
  keepLooking(now: number): boolean {
    return this.quick && now - this.lastRead < this.windowMs;
  }
}
