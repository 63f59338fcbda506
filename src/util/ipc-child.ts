/**
 * A child process driven over Node's IPC channel: { id, cmd, args } in, { id, ok, result |
 * error } out, plus { event } messages. Used by the demo's workers, the tests and the
 * benchmarks, so each starts real processes the same way.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface IpcEvent { event: string; [k: string]: unknown }
type Handler = (args: any) => unknown | Promise<unknown>;

export class IpcChild {
  readonly events: IpcEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly eventWaiters: Array<{ match: (e: IpcEvent) => boolean; resolve: (e: IpcEvent) => void }> = [];

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: any) => {
      if (m.event) {
        this.events.push(m);
        for (let i = this.eventWaiters.length - 1; i >= 0; i--) if (this.eventWaiters[i]!.match(m)) this.eventWaiters.splice(i, 1)[0]!.resolve(m);
        return;
      }
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.ok) call.resolve(m.result);
      else call.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        for (const c of this.calls.values()) c.reject(new Error(`child exited (${code ?? signal})`));
        this.calls.clear();
        resolve({ code, signal });
      }),
    );
  }

  /** Forks `modulePath` and waits for its `ready` event (sent by serveIpc). */
  static async fork(modulePath: string, args: string[] = [], execArgv: string[] = []): Promise<IpcChild> {
    const c = new IpcChild(fork(modulePath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }));
    await Promise.race([c.waitFor((e) => e.event === 'ready'), c.exited.then((x) => Promise.reject(new Error(`${modulePath} exited before it was ready (${x.code ?? x.signal})`)))]);
    return c;
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T = any>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.child.send({ id, cmd, args });
    });
  }

  waitFor(match: (e: IpcEvent) => boolean): Promise<IpcEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.eventWaiters.push({ match, resolve }));
  }

  /** Closes the channel and lets the child exit by itself (so exit hooks such as --cpu-prof run); kills it after `graceMs`. */
  async end(graceMs = 2000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** Child side: answers calls with `handlers`, then says it is ready. */
export function serveIpc(handlers: Record<string, Handler>): void {
  process.on('message', async (m: { id: number; cmd: string; args: unknown }) => {
    try {
      const handler = handlers[m.cmd];
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      process.send!({ id: m.id, ok: true, result: await handler(m.args ?? {}) });
    } catch (err) {
      const e = err as { code?: string; message: string };
      process.send!({ id: m.id, ok: false, error: { code: e.code, message: e.message } });
    }
  });
  process.send!({ event: 'ready' });
}

/** Child side: sends an event to the parent. */
export function emitIpc(event: string, fields: Record<string, unknown> = {}): void {
  process.send?.({ event, ...fields });
}
