/**
 * For the claim tests: a real proxy process, a real peer process ("second"), and this test
 * process registered as "first" holding its slot directly, so each step of the mark-device
 * protocol can be taken by hand and its states read from the shared memory.
 */
import { readFileSync } from 'node:fs';
import { register } from '../../src/client/registration.js';
import { ControlOp, PROTOCOL_VERSION } from '../../src/contract/registration.js';
import { Slot } from '../../src/slot/slot.js';
import { RecordKind } from '../../src/slot/record.js';
import type net from 'node:net';
import { Rig } from './rig.js';
import type { Worker } from './worker.js';

export class ClaimRig {
  slot!: Slot;
  address!: string;
  second!: Worker;
  private socket!: net.Socket;
  private rings = 0;
  private ringWaiters: Array<() => void> = [];

  private constructor(readonly rig: Rig) {}

  static async start(proxyArgs: string[] = ['--cells', '4', '--cell-bytes', '4096']): Promise<ClaimRig> {
    const c = new ClaimRig(await Rig.start(proxyArgs));
    const reg = await register(c.rig.socket, { op: ControlOp.HELLO, version: PROTOCOL_VERSION, name: 'first' }, 5000);
    c.socket = reg.socket;
    c.address = reg.welcome.address;
    c.slot = Slot.attach(reg.fds[0], reg.fds[1], reg.fds[2], reg.welcome.layout);
    c.slot.ownBell.watch(() => {
      c.rings++;
      for (const w of c.ringWaiters.splice(0)) w();
    });
    c.second = await c.rig.worker('second', { echo: true });
    return c;
  }

  get proxyPid(): number {
    return this.rig.proxy.pid;
  }

  /** Resolves at the next ring of this process's doorbell. */
  nextRing(): Promise<void> {
    return new Promise((resolve) => this.ringWaiters.push(resolve));
  }

  /** Writes one whole message into the open cell (opening it if writable); false if none is. */
  write(to: string, payload: Uint8Array): boolean {
    return this.slot.writer.writeMessage(RecordKind.SEND, Buffer.from(to), 0, payload, 0, payload.length, 0) === payload.length;
  }

  /** Freezes the proxy process and waits until the kernel reports it stopped. */
  async freezeProxy(): Promise<void> {
    process.kill(this.proxyPid, 'SIGSTOP');
    await waitForState(this.proxyPid, 'T');
  }

  thawProxy(): void {
    process.kill(this.proxyPid, 'SIGCONT');
  }

  async close(): Promise<void> {
    this.socket.destroy();
    this.slot.close();
    await this.rig.close();
  }
}

/** Waits (yielding to the loop between looks) until /proc says the process is in `state`. */
export async function waitForState(pid: number, state: string): Promise<void> {
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === state) return;
    await new Promise((r) => setImmediate(r));
  }
}

/** The memfd-backed slot mappings of a process, from /proc/PID/maps: one inode per slot. */
export function slotMappings(pid: number): Array<{ inode: number; name: string }> {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => l.includes('/memfd:slotlink-slot-'))
    .map((l) => {
      const parts = l.trim().split(/\s+/);
      return { inode: Number(parts[4]), name: parts.slice(5).join(' ') };
    });
}
