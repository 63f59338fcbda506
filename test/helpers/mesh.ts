/**
 * The two-proxy mesh (src/cli/mesh.ts) with the worker processes a test starts on either
 * side (test/fixtures/worker.ts), all cleaned up together.
 */
import { Mesh as ProxyPair, freePort, secretFlags, type MeshOptions, type Side } from '../../src/cli/mesh.js';
import type { ProxyProcess } from '../../src/cli/proxy-process.js';
import { establishedTcp } from '../../src/util/tcp-connections.js';
import { startWorker, type Worker } from './worker.js';

export { freePort, secretFlags, type MeshOptions };

export class Mesh extends ProxyPair {
  private readonly workers: Worker[] = [];

  async worker(side: Side, name: string, extra: Record<string, unknown> = {}): Promise<Worker> {
    const w = await startWorker();
    this.workers.push(w);
    await w.call('connect', { socket: this.socket(side), name, ...extra });
    return w;
  }

  override async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
    await super.close();
  }
}

/** The port a proxy accepts peers on. */
export function linkPort(p: ProxyProcess): number {
  return p.ready.linkPort!;
}

/** Established TCP connections on this host (this network namespace) with an end at `port`. */
export function tcpConnections(port: number): Array<{ local: number; remote: number }> {
  return establishedTcp().filter((c) => c.local === port || c.remote === port);
}
