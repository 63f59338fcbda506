/**
 * A doorbell: an eventfd, the kernel event object a sleeping side waits on. Ringing it is
 * one write(2); waiting on it is a uv_poll watcher on the libuv loop, so a sleeping
 * process uses no CPU and still runs the rest of its event loop.
 */
import { SyscallError } from '../errors.js';
import { native, type NativeWatcher } from '../native/binding.js';
import type { Ringable } from './mark-devices.js';

export class Doorbell implements Ringable {
  private watcher: NativeWatcher | null = null;
  private closed = false;

  private constructor(readonly fd: number) {}

  /** A new eventfd (done by the proxy, which hands it to the process). */
  static create(): Doorbell {
    try {
      return new Doorbell(native.eventfdCreate());
    } catch (err) {
      throw new SyscallError('creating a doorbell', err);
    }
  }

  /** Wraps an eventfd received from the proxy. */
  static fromFd(fd: number): Doorbell {
    return new Doorbell(fd);
  }

  ring(): void {
    if (this.closed) return;
    try {
      native.eventfdWrite(this.fd);
    } catch (err) {
      throw new SyscallError('ringing a doorbell', err);
    }
  }

  /**
   * Calls `onRing` on the loop each time the bell is rung. `keepAlive` false lets the
   * process exit while only this bell is being watched.
   */
  watch(onRing: () => void, keepAlive = false): void {
    if (this.watcher) throw new Error('doorbell is already watched');
    this.watcher = new native.Watcher(this.fd, (n) => {
      if (n < 0) throw new SyscallError('waiting on a doorbell', Object.assign(new Error(`errno ${-n}`), { errno: -n }));
      onRing();
    }, true);
    if (!keepAlive) this.watcher.unref();
    this.watcher.start();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    native.close(this.fd);
  }
}
