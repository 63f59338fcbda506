/**
 * Back pressure in two small parts. A Pausable is a source that can stop and go on (a slot
 * the proxy reads, a connection). A Gate is one place where sources wait for room: a full
 * receiver's queue, a destination without credit. Whoever waits is held at the gate and
 * goes on when the gate opens; neither side knows what the other is.
 */
export interface Pausable {
  /** Stop taking input from this source until resume(). */
  pause(): void;
  resume(): void;
}

export class Gate {
  private readonly held = new Set<Pausable>();

  /** Pauses `source` until this gate opens; false if it was already held here. */
  hold(source: Pausable): boolean {
    if (this.held.has(source)) return false;
    this.held.add(source);
    source.pause();
    return true;
  }

  /** Whatever waits here goes on. */
  open(): void {
    if (this.held.size === 0) return;
    const all = [...this.held];
    this.held.clear();
    for (const s of all) s.resume();
  }

  get waiting(): number {
    return this.held.size;
  }
}
