/**
 * Starts a client process of any kind — Node, C (libslotlink) or Python — and drives it over
 * one line protocol on its stdin/stdout, so the same code runs against every client: the
 * conformance suite (test/conformance/) and bench/clients.ts.
 *
 *   in:  {"id":N,"cmd":"connect"|"send"|"trySend"|"sendForever"|"stopSending"|"request"|"hop"|"collect"|"stats"
 *         |"subscribe"|"unsubscribe"|"publish"|"publications","args":{...}}
 *   out: {"id":N,"ok":true,"result":{...}}  or  {"id":N,"ok":false,"error":{"code":"SLOTLINK_ERR_...","message":"..."}}
 *   events: {"event":"ready"|"close"|"undeliverable"|"progress", ...}
 *
 * Publish and subscribe: `subscribe` {subject, key?, policy?, maxQueuedBytes?} -> {id} once
 * the proxy has it in effect (the driver then takes its publications); `unsubscribe` {key};
 * `publish` {subject, count?, size?, publisher?, start?} publishes `count` messages whose
 * payload is the publisher's number and a sequence number from `start` (u32 each), to the
 * space-separated subjects of `subject` in turn; `publications` {key, count?, timeout?} waits
 * until `count` arrived for `key`, then gives {received, dropped, bad, subjects, log}, where
 * `log` is [subject, publisher, sequence] per publication in arrival order.
 *
 * The drivers: test/conformance/node-driver.ts, clients/c/tests/conformance-driver.c,
 * clients/python/tests/conformance_driver.py. Closing stdin ends a driver. They live in the
 * repository (built by `make -C clients/c all driver` and `tsc`), not in the npm package:
 * their paths are looked up at run time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository's root, from dist/bench/. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const C_LIBRARY = join(ROOT, 'clients/c/libslotlink.so');
export const C_DRIVER = join(ROOT, 'clients/c/build/conformance-driver');
export const PY_DRIVER = join(ROOT, 'clients/python/tests/conformance_driver.py');
export const NODE_DRIVER = join(ROOT, 'dist/test/conformance/node-driver.js');

export type ClientKind = 'node' | 'c' | 'python';
export const KINDS: ClientKind[] = ['node', 'c', 'python'];

/** Every ordered pair of kinds: same-kind pairs and the mixed ones (C ↔ Node, Python ↔ Node, Python ↔ C). */
export const PAIRS: Array<[ClientKind, ClientKind]> = KINDS.flatMap((a) => KINDS.map((b): [ClientKind, ClientKind] => [a, b]));

export interface DriverEvent { event: string; [k: string]: unknown }

export class DriverError extends Error {
  constructor(readonly code: string | null, message: string) {
    super(message);
  }
}

/** `npm test` builds libslotlink and the C driver first (make -C clients/c all driver). */
function checkBuilt(): void {
  for (const f of [C_LIBRARY, C_DRIVER]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`make -C clients/c all driver\` (npm test does)`);
}

export class Driver {
  readonly events: DriverEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly eventWaiters: Array<{ match: (e: DriverEvent) => boolean; resolve: (e: DriverEvent) => void }> = [];
  private stderr = '';

  private constructor(readonly kind: ClientKind, readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: any;
      try {
        m = JSON.parse(line);
      } catch {
        this.stderr += `(stdout) ${line}\n`;
        return;
      }
      if (m.event) {
        this.events.push(m);
        for (let i = this.eventWaiters.length - 1; i >= 0; i--) if (this.eventWaiters[i]!.match(m)) this.eventWaiters.splice(i, 1)[0]!.resolve(m);
        return;
      }
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.ok) call.resolve(m.result);
      else call.reject(new DriverError(m.error?.code ?? null, m.error?.message ?? 'failed'));
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        for (const c of this.calls.values()) c.reject(new Error(`${kind} driver exited (${code ?? signal}); its stderr:\n${this.stderr}`));
        this.calls.clear();
        resolve({ code, signal });
      }),
    );
  }

  /** Starts a driver of `kind` and waits until it is ready for commands. */
  static start(kind: ClientKind): Promise<Driver> {
    if (kind === 'node') return Driver.launch(kind, process.execPath, [NODE_DRIVER]);
    checkBuilt();
    if (kind === 'c') return Driver.launch(kind, C_DRIVER, []);
    // The package straight from the source tree, over the library just built: no venv needed.
    return Driver.launch(kind, 'python3', ['-u', PY_DRIVER], { ...process.env, PYTHONPATH: join(ROOT, 'clients/python'), SLOTLINK_LIBRARY: C_LIBRARY });
  }

  /** Starts `command args` as a driver of `kind` (e.g. under another user) and waits until it is ready. */
  static async launch(kind: ClientKind, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Driver> {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    const d = new Driver(kind, child);
    await Promise.race([
      d.waitFor((e) => e.event === 'ready'),
      d.exited.then((x) => Promise.reject(new Error(`${kind} driver exited before it was ready (${x.code ?? x.signal}): ${d.stderr}`))),
    ]);
    return d;
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T = any>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.child.stdin!.write(JSON.stringify({ id, cmd, args }) + '\n');
    });
  }

  /** The error a call fails with (or a failure if it succeeds). */
  async callError(cmd: string, args: Record<string, unknown> = {}): Promise<DriverError> {
    try {
      const result = await this.call(cmd, args);
      throw new Error(`${this.kind}: ${cmd} succeeded (${JSON.stringify(result)}) where it should fail`);
    } catch (err) {
      if (err instanceof DriverError) return err;
      throw err;
    }
  }

  waitFor(match: (e: DriverEvent) => boolean): Promise<DriverEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.eventWaiters.push({ match, resolve }));
  }

  /** Closes stdin and waits for the driver to exit by itself; kills it after `graceMs`. */
  async end(graceMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}
