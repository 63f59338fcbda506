/**
 * The native addon, typed. It only makes system calls; every check and decision is in
 * the callers. Native failures are Errors with `errno`, `code` (e.g. "EACCES") and `syscall`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeWatcher {
  start(): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface Binding {
  memfdCreate(name: string, size: number): number;
  memfdInfo(fd: number): { size: number; seals: number };
  mmap(fd: number, size: number): ArrayBuffer;
  close(fd: number): void;
  eventfdCreate(): number;
  eventfdWrite(fd: number): void;
  Watcher: new (fd: number, callback: (countOrNegErrno: number) => void, isEventfd: boolean) => NativeWatcher;
  unixConnect(path: string): number;
  sendFds(fd: number, bytes: Uint8Array, fds: number[]): number;
  recvFds(fd: number, maxBytes: number): { data: Buffer; fds: number[]; truncated: boolean } | null;
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  peerGroups(fd: number): number[];
}

const require = createRequire(import.meta.url);
// node-gyp-build looks in the package root (dist/src/native/binding.js -> ../../../): first
// build/Release (a local compile: a git checkout, or the install-time fallback), then
// prebuilds/<platform>-<arch>/ (shipped in the npm package, so installing needs no compiler).
const loadAddon = require('node-gyp-build') as (packageRoot: string) => Binding;
export const native: Binding = loadAddon(fileURLToPath(new URL('../../../', import.meta.url)));

/** Seal bits as Linux defines them (fcntl.h), to check what a memfd promises. */
export const Seal = { SEAL: 0x1, SHRINK: 0x2, GROW: 0x4, WRITE: 0x8 } as const;
