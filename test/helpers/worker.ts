/** Starts test/fixtures/worker.js as a real process and drives it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../fixtures/worker.js', import.meta.url));

export interface WorkerEvent { event: string; [k: string]: unknown }

export class Worker {
  readonly events: WorkerEvent[] = [];
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly eventWaiters: Array<{ match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

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
        for (const c of this.calls.values()) c.reject(new Error(`worker exited (${code ?? signal})`));
        this.calls.clear();
        resolve({ code, signal });
      }),
    );
  }

  static async start(): Promise<Worker> {
    const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = new Worker(child);
    await w.waitFor((e) => e.event === 'started');
    return w;
  }

  /** Starts a worker and registers it under `name`. */
  static async connect(socket: string, name: string, extra: Record<string, unknown> = {}): Promise<Worker> {
    const w = await Worker.start();
    await w.call('connect', { socket, name, ...extra });
    return w;
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

  waitFor(match: (e: WorkerEvent) => boolean): Promise<WorkerEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.eventWaiters.push({ match, resolve }));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}
