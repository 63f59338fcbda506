/** `slotlink proxy`: run the proxy daemon until SIGTERM/SIGINT, then drain and exit. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { Proxy } from '../proxy/proxy.js';
import { intFlag, type Command } from './args.js';

const KEYS = ['socket', 'node', 'group', 'maxSlots', 'cells', 'cellBytes', 'maxMessageBytes', 'maxQueuedBytes', 'logFormat'] as const;

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'run the proxy daemon for this host',
  usage: `Usage: slotlink proxy [options]

Runs the proxy: processes on this host register on its Unix socket and each gets a
private shared-memory slot. Stops cleanly on SIGTERM or SIGINT.

Options:
  --config FILE              JSON file with any of the options below (camelCase keys)
  --socket PATH              registration socket (default $SLOTLINK_SOCKET or a per-user temp path)
  --node NAME                this host's node name in addresses (default: host name)
  --group GID                also let this numeric group register (socket mode 0660)
  --max-slots N              most processes at once (default 1024)
  --cells N                  cells per direction of each slot (default 8)
  --cell-bytes N             data bytes per cell, a multiple of 64 (default 65536)
  --max-message-bytes N      largest message accepted (default 16777216)
  --max-queued-bytes N       bytes queued for one receiver before its senders wait (default 262144)
  --log-format json|pretty   log lines as JSON (default) or readable text
  -h, --help                 show this help`,
  options: {
    config: { type: 'string' },
    socket: { type: 'string' },
    node: { type: 'string' },
    group: { type: 'string' },
    'max-slots': { type: 'string' },
    cells: { type: 'string' },
    'cell-bytes': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'max-queued-bytes': { type: 'string' },
    'log-format': { type: 'string' },
  },
  async run(flags) {
    const config: Record<string, unknown> = flags.config ? readConfig(String(flags.config)) : {};
    const v: Record<string, unknown> = { ...config };
    for (const [flag, value] of Object.entries(flags)) {
      if (value !== undefined && flag !== 'config') v[flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
    }
    const logFormat = v.logFormat ?? 'json';
    if (logFormat !== 'json' && logFormat !== 'pretty') throw new ConfigError('logFormat', `expected "json" or "pretty", got ${JSON.stringify(logFormat)}`);
    const proxy = new Proxy({
      socketPath: v.socket === undefined ? undefined : String(v.socket),
      node: v.node === undefined ? undefined : String(v.node),
      socketGid: v.group === undefined ? undefined : intFlag(v, 'group', 0),
      maxSlots: intFlag(v, 'maxSlots', 1024, 1, 65536),
      geometry: {
        cellCount: intFlag(v, 'cells', 8, 2, 256),
        cellDataBytes: intFlag(v, 'cellBytes', 64 * 1024, 256, 16 * 1024 * 1024),
        maxMessageBytes: intFlag(v, 'maxMessageBytes', 16 * 1024 * 1024, 1, 1024 * 1024 * 1024),
      },
      maxQueuedBytes: intFlag(v, 'maxQueuedBytes', 256 * 1024, 1),
      logger: createLogger({ pretty: logFormat === 'pretty' }),
    });
    await proxy.start();
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await proxy.stop();
    return 0;
  },
};

function readConfig(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, `cannot read it as JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(path, 'the file must hold a JSON object');
  for (const key of Object.keys(parsed)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new ConfigError(key, `unknown key; known keys: ${KEYS.join(', ')}`);
  }
  return parsed as Record<string, unknown>;
}
