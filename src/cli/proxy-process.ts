/**
 * Starts `slotlink proxy` as a child process and resolves once it listens (it says so, with
 * its ports, over the IPC channel); used by the demo, the benchmarks and the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ProxyReady } from './proxy-command.js';

export const CLI_PATH = fileURLToPath(new URL('./main.js', import.meta.url));

export interface ProxyProcess {
  child: ChildProcess;
  pid: number;
  socket: string;
  /** What the proxy said once it listened: its ports and incarnation. */
  ready: ProxyReady;
  /** Every log line so far. */
  logs: string[];
  /** Resolves with the first log line for which `match` holds. */
  waitForLog(match: (line: string) => boolean): Promise<string>;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<number | null>;
}

export interface ProxyProcessOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Runs the proxy under another command, e.g. `ip netns exec NS`. */
  prefix?: string[];
  /** Flags for node itself, e.g. `--cpu-prof` (refused in NODE_OPTIONS). */
  nodeArgs?: string[];
}

/** Starts `slotlink proxy` with these flags and resolves once it listens (it says so over its IPC channel). */
export async function startProxyProcess(socket: string, args: string[] = [], { env = {}, prefix = [], nodeArgs = [] }: ProxyProcessOptions = {}): Promise<ProxyProcess> {
  const command = [...prefix, process.execPath, ...nodeArgs, CLI_PATH, 'proxy', '--socket', socket, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  const logs: string[] = [];
  const watchers: Array<{ match: (l: string) => boolean; resolve: (l: string) => void }> = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      logs.push(line);
      for (let i = watchers.length - 1; i >= 0; i--) {
        if (watchers[i]!.match(line)) watchers.splice(i, 1)[0]!.resolve(line);
      }
    }
  });
  const exited = once(child, 'exit');
  const failed = (code: unknown) => new Error(`proxy exited (code ${code}) before the expected log line; its log:\n${logs.join('\n')}`);
  const waitForLog = (match: (line: string) => boolean) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      watchers.push({ match, resolve });
      child.once('exit', (code) => reject(failed(code)));
    });
  };
  const ready = await new Promise<ProxyReady>((resolve, reject) => {
    child.on('message', (m: ProxyReady) => m.event === 'proxy-ready' && resolve(m));
    child.once('exit', (code) => reject(new Error(`proxy exited (code ${code}) before it listened; its log:\n${logs.join('\n')}`)));
  });
  child.channel?.unref();
  return {
    child,
    pid: child.pid!,
    socket,
    ready,
    logs,
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
