/** A proxy process in a private temp directory, and everything a test starts, cleaned up together. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { startWorker, type Worker } from './worker.js';

export class Rig {
  readonly dir = mkdtempSync(join(os.tmpdir(), 'slotlink-test-'));
  readonly socket = join(this.dir, 'proxy.sock');
  proxy!: ProxyProcess;
  private readonly workers: Worker[] = [];

  static async start(proxyArgs: string[] = []): Promise<Rig> {
    const rig = new Rig();
    await rig.startProxy(proxyArgs);
    return rig;
  }

  /** Starts the proxy (node "test") on this rig's socket; for a rig made with `new Rig()` that first writes files into `dir`. */
  async startProxy(proxyArgs: string[] = []): Promise<void> {
    this.proxy = await startProxyProcess(this.socket, ['--node', 'test', ...proxyArgs]);
  }

  async worker(name: string, extra: Record<string, unknown> = {}): Promise<Worker> {
    const w = await startWorker();
    this.workers.push(w);
    await w.call('connect', { socket: this.socket, name, ...extra });
    return w;
  }

  status(): Promise<ProxyStats> {
    return requestStatus(this.socket) as Promise<ProxyStats>;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
    if (this.proxy) {
      // A stopped proxy cannot take SIGTERM.
      try {
        process.kill(this.proxy.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await this.proxy.stop();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
