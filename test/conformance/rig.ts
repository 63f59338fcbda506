/** Real proxies for the conformance suite, and every driver a test starts, cleaned up together. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { Mesh } from '../helpers/mesh.js';
import { Driver, type ClientKind } from './driver.js';

/** Starts drivers and remembers them, so a test ends them all however it ends. */
export class Drivers {
  private readonly all: Driver[] = [];

  async start(kind: ClientKind): Promise<Driver> {
    const d = await Driver.start(kind);
    this.all.push(d);
    return d;
  }

  /** A driver of `kind` registered as `name` at `socket`. */
  async connect(kind: ClientKind, socket: string, name: string, extra: Record<string, unknown> = {}): Promise<Driver> {
    const d = await this.start(kind);
    await d.call('connect', { socket, name, ...extra });
    return d;
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((d) => d.kill()));
  }
}

/** One proxy in a private temp directory. */
export class Host extends Drivers {
  readonly dir = mkdtempSync(join(os.tmpdir(), 'slotlink-conf-'));
  readonly socket = join(this.dir, 'proxy.sock');
  proxy!: ProxyProcess;

  static async start(args: string[] = []): Promise<Host> {
    const h = new Host();
    h.proxy = await startProxyProcess(h.socket, ['--node', 'conf', ...args]);
    return h;
  }

  /** A driver of `kind` registered as `name` with this proxy. */
  worker(kind: ClientKind, name: string, extra: Record<string, unknown> = {}): Promise<Driver> {
    return this.connect(kind, this.socket, name, extra);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.proxy?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Two linked proxies (test/helpers/mesh.ts) with drivers on either side. */
export class TwoHosts extends Drivers {
  mesh!: Mesh;

  static async start(): Promise<TwoHosts> {
    const t = new TwoHosts();
    t.mesh = await Mesh.start();
    return t;
  }

  worker(kind: ClientKind, side: 'alpha' | 'beta', name: string, extra: Record<string, unknown> = {}): Promise<Driver> {
    return this.connect(kind, this.mesh.socket(side), name, extra);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.mesh?.close();
  }
}
