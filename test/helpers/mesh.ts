/**
 * Two real proxy processes ("alpha" and "beta") linked over loopback, each with its own
 * registration socket, plus the worker processes a test starts on either side.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { establishedTcp } from '../../bench/tcp-connections.js';
import { startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { startWorker, type Worker } from './worker.js';

export interface MeshOptions {
  /** Extra flags for both proxies. */
  args?: string[];
  /** Security flags; default a shared secret. */
  security?: (dir: string) => string[];
  /** Put beta's link port behind this hook (e.g. a relay); returns the port alpha dials. */
  front?: (betaPort: number) => Promise<number>;
  /** Both proxies dial each other. */
  bothDial?: boolean;
  /** Flags for one proxy only (e.g. its own certificate). */
  perNode?: (node: 'alpha' | 'beta') => string[];
}

export function secretFlags(dir: string): string[] {
  const file = join(dir, 'secret');
  writeFileSync(file, randomBytes(32), { mode: 0o600 });
  return ['--secret-file', file];
}

export class Mesh {
  readonly dir = mkdtempSync(join(os.tmpdir(), 'slotlink-mesh-'));
  alpha!: ProxyProcess;
  beta!: ProxyProcess;
  betaPort = 0;
  alphaPort = 0;
  private readonly workers: Worker[] = [];

  static async start(options: MeshOptions = {}): Promise<Mesh> {
    const m = new Mesh();
    const security = (options.security ?? secretFlags)(m.dir);
    const common = [...security, ...(options.args ?? [])];
    const own = (node: 'alpha' | 'beta') => [...common, ...(options.perNode?.(node) ?? [])];
    if (options.bothDial) {
      const [pa, pb] = await Promise.all([freePort(), freePort()]);
      [m.alpha, m.beta] = await Promise.all([
        startProxyProcess(join(m.dir, 'alpha.sock'), ['--node', 'alpha', '--listen', `127.0.0.1:${pa}`, '--peer', `beta=127.0.0.1:${pb}`, ...own('alpha')]),
        startProxyProcess(join(m.dir, 'beta.sock'), ['--node', 'beta', '--listen', `127.0.0.1:${pb}`, '--peer', `alpha=127.0.0.1:${pa}`, ...own('beta')]),
      ]);
      m.betaPort = pb;
      m.alphaPort = pa;
    } else {
      m.beta = await startProxyProcess(join(m.dir, 'beta.sock'), ['--node', 'beta', '--listen', '127.0.0.1:0', ...own('beta')]);
      m.betaPort = linkPort(m.beta);
      const port = options.front ? await options.front(m.betaPort) : m.betaPort;
      m.alpha = await startProxyProcess(join(m.dir, 'alpha.sock'), ['--node', 'alpha', '--listen', '127.0.0.1:0', '--peer', `beta=127.0.0.1:${port}`, ...own('alpha')]);
    }
    await Promise.all([m.alpha.waitForLog((l) => l.includes('"link up"')), m.beta.waitForLog((l) => l.includes('"link up"'))]);
    return m;
  }

  socket(side: 'alpha' | 'beta'): string {
    return join(this.dir, `${side}.sock`);
  }

  async worker(side: 'alpha' | 'beta', name: string, extra: Record<string, unknown> = {}): Promise<Worker> {
    const w = await startWorker();
    this.workers.push(w);
    await w.call('connect', { socket: this.socket(side), name, ...extra });
    return w;
  }

  status(side: 'alpha' | 'beta'): Promise<ProxyStats> {
    return requestStatus(this.socket(side)) as Promise<ProxyStats>;
  }

  /** Waits until `side` has heard from its peer that `name` is registered there. */
  async waitForRemoteName(side: 'alpha' | 'beta', name: string): Promise<void> {
    for (;;) {
      const s = await this.status(side);
      if (s.remoteDirectory.some((r) => r.names.includes(name))) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
    await Promise.all([this.alpha?.stop(), this.beta?.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function linkPort(p: ProxyProcess): number {
  const line = p.logs.find((l) => l.includes('"proxy listening"'))!;
  return JSON.parse(line).linkPort as number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Established TCP connections on this host (this network namespace) with an end at `port`. */
export function tcpConnections(port: number): Array<{ local: number; remote: number }> {
  return establishedTcp().filter((c) => c.local === port || c.remote === port);
}
