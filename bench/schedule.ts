/**
 * What the kernel's scheduler did for some processes, from /proc/<pid>/task/<tid>/schedstat
 * (every thread): time on a CPU, time runnable but waiting for one, and how many times it
 * got one. Under load on a small machine a good part of a message's round trip is such
 * waits: each process it passes is woken and then waits for a CPU before it runs. Also the
 * one thing the benchmarks ask of the scheduler: a lower priority for some processes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface Schedule {
  /** Seconds on a CPU. */
  runS: number;
  /** Seconds runnable and waiting for a CPU. */
  waitS: number;
  /** Times a thread was given a CPU. */
  slices: number;
}

const NONE: Schedule = { runS: 0, waitS: 0, slices: 0 };

/** The process's threads' totals so far; zeros once it is gone (or on a kernel without schedstat). */
export function schedule(pid: number): Schedule {
  let runS = 0;
  let waitS = 0;
  let slices = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [run, wait, n] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').trim().split(' ').map(Number);
        runS += run! / 1e9;
        waitS += wait! / 1e9;
        slices += n!;
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return NONE;
  }
  return { runS, waitS, slices };
}

/** Several processes' figures together. */
export function sumOf(readings: Schedule[]): Schedule {
  return readings.reduce((a, s) => ({ runS: a.runS + s.runS, waitS: a.waitS + s.waitS, slices: a.slices + s.slices }), NONE);
}

/** What happened between two readings. */
export function since(before: Schedule, after: Schedule): Schedule {
  return { runS: after.runS - before.runS, waitS: after.waitS - before.waitS, slices: after.slices - before.slices };
}

/** Mean wait for a CPU each time one was given (after a wake-up or a preemption), in ms (0 when none was). */
export function meanWaitMs(s: Schedule): number {
  return s.slices > 0 ? (s.waitS / s.slices) * 1000 : 0;
}

/** Gives every thread of the process this nice value (Linux keeps one per thread). */
export function renice(pid: number, nice: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), nice);
}
