/**
 * The proxy process's own resources, read when a snapshot is taken: CPU time, memory,
 * file descriptors (each slot holds a memfd and two eventfds, each link a socket, so a
 * proxy near its descriptor limit refuses registrations), and its event loop's lag.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { EventLoopDelay, EventLoopDelayStats } from './event-loop-delay.js';

export interface ProcessStats {
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  residentBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Open file descriptors, and the most the process may have (its soft limit; null when unknown). */
  openFds: number;
  maxFds: number | null;
  /** When the process started, seconds since the Unix epoch. */
  startTimeSeconds: number;
  eventLoopDelay: EventLoopDelayStats;
}

/** The soft limit on open files, from /proc/self/limits ("unlimited" and unreadable: null). */
function maxFds(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

export function processStats(eventLoop: EventLoopDelay): ProcessStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    residentBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    // Listing the directory opens one more descriptor, which the listing includes.
    openFds: readdirSync('/proc/self/fd').length - 1,
    maxFds: maxFds(),
    startTimeSeconds: Math.round(performance.timeOrigin) / 1000,
    eventLoopDelay: eventLoop.stats(),
  };
}
