/** A small seeded generator (mulberry32), so a fuzz run can be repeated from its seed. */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform u32. */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.below(256);
    return b;
  }

  /** A value a field is likely to trip on: 0, 1, a power of two or its neighbours, the maximum, or anything. */
  interesting(): number {
    return this.pick([0, 1, 2, 7, 8, 24, 63, 64, 65, 255, 256, 4096, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff, this.u32()]);
  }
}
