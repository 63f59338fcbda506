/**
 * Two real proxy processes, "alpha" and "beta", linked over loopback, each with its own
 * registration socket in one directory: what the demo, the benchmarks and the tests start
 * when they need two hosts on one machine. Beta listens, alpha dials (or both do).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { requestStatus } from '../client/registration.js';
import type { ProxyStats } from '../proxy/stats.js';
import { startProxyProcess, type ProxyProcess } from './proxy-process.js';

export type Side = 'alpha' | 'beta';

export interface MeshOptions {
  /** Extra flags for both proxies. */
  args?: string[];
  /** Security flags, made in the mesh's directory; default a fresh shared secret. */
  security?: (dir: string) => string[];
  /** Put beta's link port behind this hook (e.g. a relay); returns the port alpha dials. */
  front?: (betaPort: number) => Promise<number>;
  /** Both proxies dial each other. */
  bothDial?: boolean;
  /** Flags for one proxy only (e.g. its own certificate). */
  perNode?: (node: Side) => string[];
  /** Flags for node itself in both proxies (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** A fresh 32-byte secret in `dir`, and the flag that uses it. */
export function secretFlags(dir: string): string[] {
  const file = join(dir, 'secret');
  writeFileSync(file, randomBytes(32), { mode: 0o600 });
  return ['--secret-file', file];
}

/** How often the mesh looks whether a link is up or a name has arrived. */
const POLL_MS = 10;

export class Mesh {
  readonly dir = mkdtempSync(join(os.tmpdir(), 'slotlink-mesh-'));
  alpha!: ProxyProcess;
  beta!: ProxyProcess;
  betaPort = 0;
  alphaPort = 0;

  /** Starts both proxies and resolves once their link is up on both sides. */
  static async start<M extends Mesh>(this: new () => M, options: MeshOptions = {}): Promise<M> {
    const m = new this();
    const security = (options.security ?? secretFlags)(m.dir);
    const common = [...security, ...(options.args ?? [])];
    const own = (node: Side) => [...common, ...(options.perNode?.(node) ?? [])];
    const run = { nodeArgs: options.nodeArgs ?? [] };
    if (options.bothDial) {
      const [pa, pb] = await Promise.all([freePort(), freePort()]);
      [m.alpha, m.beta] = await Promise.all([
        startProxyProcess(m.socket('alpha'), ['--node', 'alpha', '--listen', `127.0.0.1:${pa}`, '--peer', `beta=127.0.0.1:${pb}`, ...own('alpha')], run),
        startProxyProcess(m.socket('beta'), ['--node', 'beta', '--listen', `127.0.0.1:${pb}`, '--peer', `alpha=127.0.0.1:${pa}`, ...own('beta')], run),
      ]);
    } else {
      m.beta = await startProxyProcess(m.socket('beta'), ['--node', 'beta', '--listen', '127.0.0.1:0', ...own('beta')], run);
      const port = options.front ? await options.front(m.beta.ready.linkPort!) : m.beta.ready.linkPort!;
      m.alpha = await startProxyProcess(m.socket('alpha'), ['--node', 'alpha', '--listen', '127.0.0.1:0', '--peer', `beta=127.0.0.1:${port}`, ...own('alpha')], run);
    }
    m.alphaPort = m.alpha.ready.linkPort!;
    m.betaPort = m.beta.ready.linkPort!;
    await Promise.all([m.linkUp('alpha'), m.linkUp('beta')]);
    return m;
  }

  socket(side: Side): string {
    return join(this.dir, `${side}.sock`);
  }

  status(side: Side): Promise<ProxyStats> {
    return requestStatus(this.socket(side)) as Promise<ProxyStats>;
  }

  /** Resolves once `side`'s link to the other is up. */
  async linkUp(side: Side): Promise<void> {
    while (!(await this.status(side)).links.some((l) => l.status.state === 'up')) await new Promise((r) => setTimeout(r, POLL_MS));
  }

  /** Resolves once `side` has heard from its peer that `name` is registered there. */
  async waitForRemoteName(side: Side, name: string): Promise<void> {
    while (!(await this.status(side)).remoteDirectory.some((r) => r.names.includes(name))) await new Promise((r) => setTimeout(r, POLL_MS));
  }

  /** Resolves once `side` has heard from its peer that a process there subscribed to `pattern`. */
  async waitForRemoteSubject(side: Side, pattern: string): Promise<void> {
    while (!(await this.status(side)).remoteDirectory.some((r) => r.subjects.includes(pattern))) await new Promise((r) => setTimeout(r, POLL_MS));
  }

  /** Stops both proxies (SIGTERM: they drain) and removes the directory. */
  async close(): Promise<void> {
    await Promise.all([this.alpha?.stop(), this.beta?.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
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
